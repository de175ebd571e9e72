#include "actors/app/demo.hpp"

#include "domain/auth.hpp"
#include "domain/lead_import.hpp"

namespace gobi::app {

result<bool> seed_demo(storage::store& s, const phone::normalizer& pn, millis now) {
  if (s.find_user_by_email(demo_email))
    return false;
  auto t = s.create_tenant(tenant{{}, "Demo Company", now});
  if (!t)
    return std::move(t).err();
  auto hash = auth::hash_password(demo_password);
  if (!hash)
    return std::move(hash).err();
  user u;
  u.tenant = t->id;
  u.email = demo_email;
  u.name = "Demo User";
  u.password_hash = *hash;
  u.created_at = now;
  auto created_user = s.create_user(u);
  if (!created_user)
    return std::move(created_user).err();

  agent a;
  a.tenant = t->id;
  a.name = "Appointment Setter";
  a.description = "Books product demos with inbound and outbound leads";
  a.system_prompt = "You are a friendly assistant for Demo Company. Find out whether the "
                    "caller wants a product demo and book a time that suits them.";
  a.personality = "Warm, brief and clear";
  a.greeting_message = "Hello! This is the Demo Company assistant. How can I help you today?";
  a.created_at = a.updated_at = now;
  auto ag = s.create_agent(a);
  if (!ag)
    return std::move(ag).err();
  prompt_change pc{0, ag->id, t->id, ag->system_prompt, {}, created_user->id, demo_email, now};
  if (auto r = s.update_agent(*ag, &pc); !r)
    return std::move(r).err();
  if (auto r = s.set_agent_runtime(ag->id, agent_status::active, std::nullopt, "{}", now); !r)
    return std::move(r).err();

  lead_list l;
  l.tenant = t->id;
  l.name = "Demo leads";
  l.description = "Three made-up prospects";
  l.created_at = l.updated_at = now;
  auto list = s.create_lead_list(l);
  if (!list)
    return std::move(list).err();
  auto parsed = leads::parse_csv(
    "phoneNumber,name,email,company_name,job_title,timezone\n"
    "(415) 555-1001,John Doe,john@example.com,Acme Corp,VP of Sales,America/Los_Angeles\n"
    "+1 212 555 1002,Jane Smith,jane@example.com,Globex,CTO,America/New_York\n"
    "312.555.1003,Sam Lee,sam@example.com,Initech,Head of Ops,America/Chicago\n",
    pn);
  if (!parsed)
    return std::move(parsed).err();
  for (auto& ld : parsed->leads) {
    ld.list = list->id;
    ld.tenant = t->id;
    ld.created_at = now;
  }
  if (auto r = s.insert_leads(parsed->leads); !r)
    return std::move(r).err();

  phone_number n;
  n.tenant = t->id;
  n.number = "+14155550100";
  n.label = "Demo inbound line";
  n.agent = ag->id;
  n.created_at = n.updated_at = now;
  if (auto r = s.create_phone_number(n); !r && r.err().code != errc::conflict)
    return std::move(r).err();

  campaign c;
  c.tenant = t->id;
  c.name = "Demo outbound";
  c.type = campaign_type::outbound;
  c.agents.push_back({ag->id, 1, true});
  c.lead_lists.push_back(list->id);
  c.agent_instructions = "You are [Resource Name] from Demo Company, calling [Prospect Name].";
  c.session_script = "Hi [Prospect Name], this is [Resource Name] from Demo Company. Is now a "
                     "good time to talk about how we help teams like [Company Name]?";
  c.created_at = c.updated_at = now;
  if (auto r = s.create_campaign(c); !r)
    return std::move(r).err();
  return true;
}

} // namespace gobi::app
