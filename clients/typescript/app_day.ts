/**
 * A short app day on the TypeScript types that openapi-typescript generates from the schema,
 * called through openapi-fetch.
 *
 * This is what a typed app writes, and it must type-check with `tsc --strict` as it is: no
 * dummy token for the public operations, no cast, no optional fields the server always sends,
 * and error codes narrowed by their enums. `make test` generates the types from the served
 * schema (as the module "focusflow-api"), type-checks this file, and plays it against a live
 * server (focusflow/tests/test_clients.py).
 */
import createClient from "openapi-fetch";
import type { components, paths } from "focusflow-api";

type FocusSession = components["schemas"]["FocusSession"];
type Tag = components["schemas"]["Tag"];
type Goal = components["schemas"]["Goal"];

function unexpected(step: string, answer: unknown): never {
  throw new Error(`${step}: unexpected answer ${JSON.stringify(answer)}`);
}

export async function appDay(baseUrl: string): Promise<void> {
  const email = `app-day-${crypto.randomUUID().slice(0, 12)}@focusflow.test`;
  const password = "a long and quiet morning";
  // Register and log in: public operations, no token.
  const open = createClient<paths>({ baseUrl });

  const registered = await open.POST("/api/users/register/", {
    body: { email, password, display_name: "Dana", timezone: "Europe/Paris" },
  });
  if (registered.data === undefined) unexpected("register", registered.error);
  const timezone: string = registered.data.timezone; // always sent: not `string | undefined`
  const goal: number | null = registered.data.daily_goal_minutes;
  if (timezone !== "Europe/Paris" || goal !== null) unexpected("register", registered.data);

  const wrong = await open.POST("/api/users/login/", { body: { email, password: "not my password" } });
  if (wrong.response.status !== 401 || wrong.error?.code !== "invalid_credentials") {
    unexpected("login with a wrong password", wrong.error);
  }

  const login = await open.POST("/api/users/login/", { body: { email, password } });
  if (login.data === undefined) unexpected("login", login.error);
  const api = createClient<paths>({ baseUrl, headers: { Authorization: `Bearer ${login.data.access}` } });

  const me = await api.GET("/api/users/me/");
  if (me.data?.email !== email) unexpected("me", me.error);

  const quote = await api.GET("/api/quotes/today/");
  if (quote.data !== undefined) {
    const author: string | null = quote.data.author;
    console.log(`Today: ${quote.data.text} (${author ?? "unknown"})`);
  } else if (quote.error?.code !== "no_quotes") {
    unexpected("quote", quote.error); // a server with no quotes loaded yet answers no_quotes
  }

  const started = await api.POST("/api/sessions/start/", {
    params: { header: { "Idempotency-Key": crypto.randomUUID() } },
    body: { planned_minutes: 25, label: "Draft the report" },
  });
  if (started.data === undefined) unexpected("start", started.error);
  const session: FocusSession = started.data;
  console.log(`Focus from ${session.start_time} (server clock ${session.server_now})`);

  // A second start is refused; the code says what is in the way, and where it is in the body.
  const refused = await api.POST("/api/sessions/start/", { body: { label: "Another one" } });
  if (refused.error === undefined || !("detail" in refused.error)) unexpected("second start", refused.data);
  switch (refused.error.code) {
    case "session_already_active": {
      const running: FocusSession | null = refused.error.active_session;
      if (running?.id !== session.id) unexpected("second start", refused.error);
      break;
    }
    case "session_overlap":
      unexpected(`second start (overlaps ${refused.error.conflicting_session?.id})`, refused.error);
    case "client_id_conflict":
      unexpected(`second start (client_id of ${refused.error.existing.id})`, refused.error);
    default:
      unexpected("second start", refused.error);
  }

  const paused = await api.POST("/api/sessions/pause/", {});
  if (!paused.data?.is_paused) unexpected("pause", paused.error);
  const again = await api.POST("/api/sessions/pause/", {});
  if (again.error?.code !== "session_already_paused") unexpected("pause twice", again.error);

  const stopped = await api.POST("/api/sessions/stop/", {
    params: { header: { "Idempotency-Key": crypto.randomUUID() } },
    body: {},
  });
  if (stopped.data?.end_time == null) unexpected("stop", stopped.error);
  const ended: string = stopped.data.end_time;

  const journal = await api.POST("/api/journals/create/", {
    params: { header: { "Idempotency-Key": crypto.randomUUID() } },
    body: { content: "Good focus until the phone rang.", session: stopped.data.id },
  });
  if (journal.data?.session !== stopped.data.id || journal.data.editable) unexpected("journal", journal.error);

  // Tags and goals: what the focus was on, and how far it is from the week's target.
  const tag = await api.POST("/api/tags/", { body: { name: "Report", color: "#1e90ff" } });
  if (tag.data === undefined) unexpected("tag", tag.error);
  const report: Tag = tag.data;
  const twin = await api.POST("/api/tags/", { body: { name: "REPORT", client_id: crypto.randomUUID() } });
  if (twin.error === undefined || !("detail" in twin.error)) unexpected("same tag twice", twin.data);
  switch (twin.error.code) {
    case "tag_name_taken": {
      const existing: Tag | null = twin.error.existing; // a device maps its own tag to this one
      if (existing?.id !== report.id) unexpected("same tag twice", twin.error);
      break;
    }
    default:
      unexpected("same tag twice", twin.error);
  }
  const tagged = await api.PATCH("/api/sessions/{id}/", {
    params: { path: { id: stopped.data.id } },
    body: { tags: [report.id] },
  });
  const tags: number[] | undefined = tagged.data?.tags;
  if (tags?.[0] !== report.id) unexpected("tag the session", tagged.error);
  const weekly = await api.POST("/api/goals/", { body: { tag: report.id, period: "week", target_minutes: 120 } });
  if (weekly.data === undefined) unexpected("goal", weekly.error);
  const weeklyGoal: Goal = weekly.data;
  const stats = await api.GET("/api/sessions/stats/", { params: { query: { days: 7, tag: report.id } } });
  if (stats.data === undefined) unexpected("stats", stats.error);
  const byTag: number | null | undefined = stats.data.by_tag[0]?.tag;
  const progress = stats.data.goals.find((entry) => entry.goal === weeklyGoal.id);
  if (byTag !== report.id || progress === undefined || progress.met) unexpected("stats", stats.data);
  console.log(`${report.name}: ${progress.focus_seconds} s of ${weeklyGoal.target_minutes} min since ${progress.period_start}`);

  const history = await api.GET("/api/sessions/history/", { params: { query: { page_size: 10 } } });
  if (history.data === undefined) unexpected("history", history.error);
  const older: string | null = history.data.next; // always sent, null on the last page
  if (older !== null || history.data.results[0]?.id !== stopped.data.id) unexpected("history", history.data);

  const feed = await api.GET("/api/sync/");
  if (feed.data === undefined) unexpected("sync", feed.error);
  const synced = feed.data.changes.flatMap((change) =>
    change.type === "session" && change.data !== null ? [change.data.end_time] : [],
  );
  if (synced.length !== 1 || Date.parse(synced[0] ?? "") !== Date.parse(ended)) unexpected("sync", feed.data);

  // A status bar's script: a personal access token that may read sessions, and nothing else.
  const made = await api.POST("/api/users/me/tokens/", {
    body: { name: "status bar", scopes: ["sessions:read"], expires_in_days: 30 },
  });
  if (made.data === undefined) unexpected("make a token", made.error);
  const token: string = made.data.token; // shown this once
  const script = createClient<paths>({ baseUrl, headers: { Authorization: `Bearer ${token}` } });
  const seen = await script.GET("/api/sessions/history/");
  if (seen.data?.results[0]?.id !== stopped.data.id) unexpected("history with the token", seen.error);
  const denied = await script.GET("/api/journals/");
  if (denied.response.status !== 403 || denied.error === undefined) unexpected("journals with the token", denied);
  if (denied.error.code !== "insufficient_scope") unexpected("journals with the token", denied.error);
  const needed: string | null = denied.error.required_scope;
  if (needed !== "journals:read") unexpected("journals with the token", denied.error);
  // A webhook to a private address is refused, with the one message every refused URL gets.
  const refusedHook = await api.POST("/api/webhooks/", {
    body: { url: "https://10.0.0.1/hook", events: ["session.stopped"] },
  });
  if (refusedHook.response.status !== 400) unexpected("webhook to a private address", refusedHook.error);
  const hooks = await api.GET("/api/webhooks/");
  if (hooks.data === undefined || hooks.data.results.length !== 0) unexpected("webhooks", hooks.error);

  const revoked = await api.DELETE("/api/users/me/tokens/{id}/", { params: { path: { id: made.data.id } } });
  if (revoked.response.status !== 204) unexpected("delete the token", revoked.error);

  // Leaving: the account goes, and its access token stops working at once.
  const deleted = await api.DELETE("/api/users/me/", { body: { password } });
  if (deleted.response.status !== 204) unexpected("delete account", deleted.error);
  const gone = await api.GET("/api/users/me/");
  if (gone.error === undefined) unexpected("me after deletion", gone.data);
  const code = gone.error.code;
  switch (code) {
    case "user_not_found":
    case "user_inactive":
      console.log("Signed out: the account is gone.");
      break;
    case "token_not_valid":
      unexpected("me after deletion (time to refresh the token)", gone.error);
    case "not_authenticated":
    case "bad_authorization_header":
      unexpected("me after deletion (the app sent no usable token)", gone.error);
    case "throttled":
      unexpected("me after deletion (too many reads: wait Retry-After)", gone.error);
    case "bad_request":
    case "not_acceptable":
    case "database_unavailable":
      unexpected("me after deletion", gone.error);
    default: {
      const unknown: never = code;
      unexpected("me after deletion", unknown);
    }
  }
}

appDay(process.argv[2] ?? "http://127.0.0.1:8000").catch((error: unknown) => {
  console.error(error);
  process.exit(1);
});
