// server.ts — the Bun + Elysia twin that tests/bench/run measures our FastCGI workers against.
// It does per request the work our handlers do, on the same Redis and PostgreSQL:
//   GET /api/v1/dashboard  session cookie -> SHA-256 hex -> GET s:<hash> (PostgreSQL when missing,
//                          like lib/session.c) -> idle/absolute checks -> GET c:dashboard:summary:<tid>
//                          (built from PostgreSQL with cgi/modules/dashboard.c's SQL and cached when
//                          missing) -> the cached JSON text as is, with the same headers.
//   GET /login             the same HTML as cgi/modules/auth.c's login page: templates/auth/login.cs
//                          (with layout/head.cs and foot.cs) parsed once at start by a small
//                          ClearSilver-subset engine and rendered per request with HTML escaping,
//                          language strings from templates/lang/*.hdf, a fresh CSRF token and cookie.
// Environment: TWIN_SOCKET (unix socket path) or TWIN_PORT, TWIN_REDIS_PORT, TWIN_PG_PORT,
// TWIN_ROOT (repository root, for templates/), TWIN_SESSION_COOKIE (default bcf_session).
import { Elysia } from "elysia";
import { RedisClient, SQL } from "bun";
import { chmodSync, readFileSync } from "node:fs";
import { randomBytes } from "node:crypto";

const env = process.env;
const ROOT = env.TWIN_ROOT ?? new URL("../../..", import.meta.url).pathname;
const SESSION_COOKIE = env.TWIN_SESSION_COOKIE ?? "bcf_session";
const IDLE_S = Number(env.TWIN_SESSION_IDLE_S ?? 1800);
const ABSOLUTE_S = Number(env.TWIN_SESSION_ABSOLUTE_S ?? 43200);
const DASHBOARD_TTL_S = Number(env.TWIN_DASHBOARD_TTL_S ?? 30);
const DEFAULT_LANG = "pt-BR";

const redis = new RedisClient(`redis://127.0.0.1:${env.TWIN_REDIS_PORT ?? 6379}`);
const sql = new SQL({
  hostname: "127.0.0.1",
  port: Number(env.TWIN_PG_PORT ?? 5432),
  username: "botcriptofy",
  database: "botcriptofy",
  max: 4,
});

// ------------------------------------------------------------------ headers, ids, tokens
// The same set cgi/app.c writes on every response.
const SECURITY_HEADERS: Record<string, string> = {
  "Content-Security-Policy":
    "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; connect-src 'self'; " +
    "frame-ancestors 'none'; base-uri 'self'; form-action 'self'; object-src 'none'",
  "X-Content-Type-Options": "nosniff",
  "Referrer-Policy": "strict-origin-when-cross-origin",
  "X-Frame-Options": "DENY",
  "Cache-Control": "no-store",
};

const RID_RE = /^[A-Za-z0-9._-]{1,64}$/;
function requestId(request: Request): string {
  const rid = request.headers.get("x-request-id");
  return rid && RID_RE.test(rid) ? rid : token(16);
}

// base64url without padding, as sodium_bin2base64(..., URLSAFE_NO_PADDING)
function token(nbytes: number): string {
  return randomBytes(nbytes).toString("base64url");
}

function headers(contentType: string, rid: string, extra?: Record<string, string>): Headers {
  const h = new Headers(SECURITY_HEADERS);
  h.set("Content-Type", contentType);
  h.set("X-Request-Id", rid);
  if (extra) for (const k in extra) h.append(k, extra[k]);
  return h;
}

function jsonError(status: number, code: string, message: string, rid: string): Response {
  const body = JSON.stringify({ error: { code, message, request_id: rid } });
  return new Response(body, { status, headers: headers("application/json; charset=utf-8", rid) });
}

// ------------------------------------------------------------------ sessions (lib/session.c)
type Session = {
  uid: number; tid: number; email: string; name: string; role: string; csrf: string;
  created: number; seen: number;
};

async function storeRedis(hash: string, s: Session): Promise<void> {
  const now = Math.floor(Date.now() / 1000);
  let ttl = IDLE_S;
  const left = s.created + ABSOLUTE_S - now;
  if (left < ttl) ttl = left;
  if (ttl > 0) await redis.send("SET", [`s:${hash}`, JSON.stringify(s), "EX", String(ttl)]);
}

async function lookupDb(hash: string): Promise<Session | null> {
  const rows = await sql`SELECT s.user_id, u.tenant_id, u.email, u.display_name, u.role, s.csrf,
      extract(epoch from s.created_at)::bigint AS created, extract(epoch from s.seen_at)::bigint AS seen
      FROM sessions s JOIN users u ON u.id = s.user_id
      WHERE s.id_hash = ${hash} AND s.revoked_at IS NULL`;
  if (rows.length !== 1) return null;
  const r = rows[0];
  return {
    uid: Number(r.user_id), tid: Number(r.tenant_id), email: r.email, name: r.display_name, role: r.role,
    csrf: r.csrf, created: Number(r.created), seen: Number(r.seen),
  };
}

async function sessionLookup(tok: string | undefined): Promise<Session | null> {
  if (!tok || tok.length !== 43) return null;
  const hash = new Bun.CryptoHasher("sha256").update(tok).digest("hex");
  const v = await redis.get(`s:${hash}`);
  let s: Session | null;
  if (v) {
    s = JSON.parse(v) as Session;
  } else {
    // Redis emptied: the durable row still knows the session
    s = await lookupDb(hash);
    if (s) await storeRedis(hash, s);
  }
  if (!s) return null;
  const now = Math.floor(Date.now() / 1000);
  if (now - s.created > ABSOLUTE_S || now - s.seen > IDLE_S) return null;
  // sliding idle timeout, written at most once a minute per session
  if (now - s.seen >= 60) {
    s.seen = now;
    await storeRedis(hash, s);
    await sql`UPDATE sessions SET seen_at = now() WHERE id_hash = ${hash}`;
  }
  return s;
}

// ------------------------------------------------------------------ dashboard (cgi/modules/dashboard.c)
async function dashboardSummary(tid: number): Promise<string | null> {
  const key = `c:dashboard:summary:${tid}`;
  const cached = await redis.get(key);
  if (cached) return cached;
  const id = String(tid);
  const rows = await sql`SELECT t.name, t.kind, t.plan,
      (SELECT count(*) FROM users u WHERE u.tenant_id = t.id) AS users,
      (SELECT count(*) FROM jobs j WHERE j.tenant_id = t.id AND j.status = 'queued') AS queued,
      (SELECT count(*) FROM jobs j WHERE j.tenant_id = t.id AND j.status = 'running') AS running,
      (SELECT count(*) FROM jobs j WHERE j.tenant_id = t.id AND j.status = 'done') AS done
      FROM tenants t WHERE t.id = ${id}::bigint`;
  if (rows.length !== 1) return null;
  const r = rows[0];
  const s = JSON.stringify({
    tenant: { id: tid, name: r.name, kind: r.kind, plan: r.plan },
    users: Number(r.users),
    jobs: { queued: Number(r.queued), running: Number(r.running), done: Number(r.done) },
  });
  // cache_set: the value, then the tag set that lives as long as its longest member
  const tkey = `ct:tenant:${tid}`;
  await redis.send("SET", [key, s, "EX", String(DASHBOARD_TTL_S)]);
  await redis.send("SADD", [tkey, key]);
  const extended = await redis.send("EXPIRE", [tkey, String(DASHBOARD_TTL_S), "GT"]);
  if (extended === 0) await redis.send("EXPIRE", [tkey, String(DASHBOARD_TTL_S), "NX"]);
  return s;
}

// ------------------------------------------------------------------ templates (a ClearSilver subset)
// Parsed once per process into a tree, rendered per request against a data tree with the
// language strings as the fallback ("global") data, every var: HTML-escaped (Config.VarEscapeMode = html).
// an operand is a path, optionally indexed by another path's value: user.perms[item.perm]
type Operand = { path: string[]; index: string[] | null };
// a condition: terms joined by &&, each `[!]operand [== "literal" | == operand]`
type Term = { not: boolean; a: Operand; eq: string | null; eqB: Operand | null };
type Node =
  | { t: "text"; s: string }
  | { t: "var"; path: string[] }
  | { t: "if"; terms: Term[]; then: Node[]; else: Node[] }
  | { t: "each"; name: string; path: string[]; body: Node[] };

function parseOperand(src: string, name: string): Operand {
  const m = src.trim().match(/^([\w.]+)(?:\[([\w.]+)\])?$/);
  if (!m) throw new Error(`${name}: unsupported operand '${src}'`);
  return { path: m[1].split("."), index: m[2] ? m[2].split(".") : null };
}

function parseCondition(src: string, name: string): Term[] {
  return src.split("&&").map((raw) => {
    let t = raw.trim();
    const not = t.startsWith("!");
    if (not) t = t.slice(1);
    const m = t.match(/^(.+?)\s*==\s*(?:"([^"]*)"|(.+))$/);
    if (!m) return { not, a: parseOperand(t, name), eq: null, eqB: null };
    return { not, a: parseOperand(m[1], name), eq: m[2] ?? null, eqB: m[3] ? parseOperand(m[3], name) : null };
  });
}

function parseTemplate(name: string): Node[] {
  const src = readFileSync(`${ROOT}/templates/${name}`, "utf8");
  const root: Node[] = [];
  // an elif frame is closed by the same /if as the if it continues
  const stack: { nodes: Node[]; node?: Node & { t: "if" | "each" }; elif?: boolean }[] = [{ nodes: root }];
  let i = 0;
  while (i < src.length) {
    const open = src.indexOf("<?cs", i);
    const top = stack[stack.length - 1];
    if (open < 0) {
      top.nodes.push({ t: "text", s: src.slice(i) });
      break;
    }
    if (open > i) top.nodes.push({ t: "text", s: src.slice(i, open) });
    const close = src.indexOf("?>", open);
    if (close < 0) throw new Error(`${name}: unterminated <?cs`);
    const cmd = src.slice(open + 4, close).trim();
    i = close + 2;
    let m: RegExpMatchArray | null;
    if (cmd.startsWith("#")) continue;
    if ((m = cmd.match(/^include:"([^"]+)"$/))) {
      top.nodes.push(...parseTemplate(m[1]));
    } else if ((m = cmd.match(/^var:([\w.]+)$/))) {
      top.nodes.push({ t: "var", path: m[1].split(".") });
    } else if ((m = cmd.match(/^if:(.+)$/))) {
      const n: Node = { t: "if", terms: parseCondition(m[1], name), then: [], else: [] };
      top.nodes.push(n);
      stack.push({ nodes: n.then, node: n });
    } else if ((m = cmd.match(/^elif:(.+)$/))) {
      const prev = top.node;
      if (!prev || prev.t !== "if") throw new Error(`${name}: elif outside if`);
      const n: Node = { t: "if", terms: parseCondition(m[1], name), then: [], else: [] };
      prev.else.push(n);
      top.nodes = prev.else;
      stack.push({ nodes: n.then, node: n, elif: true });
    } else if (cmd === "else") {
      const n = top.node;
      if (!n || n.t !== "if") throw new Error(`${name}: else outside if`);
      top.nodes = n.else;
    } else if ((m = cmd.match(/^each:(\w+)\s*=\s*([\w.]+)$/))) {
      const n: Node = { t: "each", name: m[1], path: m[2].split("."), body: [] };
      top.nodes.push(n);
      stack.push({ nodes: n.body, node: n });
    } else if (cmd === "/if" || cmd === "/each") {
      if (stack.length < 2) throw new Error(`${name}: unbalanced ${cmd}`);
      while (stack.length > 1 && stack.pop()!.elif);
    } else {
      throw new Error(`${name}: unsupported command '${cmd}'`);
    }
  }
  return root;
}

type Tree = { [k: string]: string | Tree | Tree[] | undefined };

function walk(t: unknown, path: string[], from: number): unknown {
  let v = t;
  for (let k = from; k < path.length && v !== undefined && v !== null; k++) v = (v as Tree)[path[k]];
  return v;
}

function lookup(data: Tree, global: Tree, locals: Tree, path: string[]): unknown {
  const local = locals[path[0]];
  if (local !== undefined) return walk(local, path, 1);
  const v = walk(data, path, 0);
  return v !== undefined ? v : walk(global, path, 0);
}

const ESC: Record<string, string> = { "&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;", "'": "&#39;", "\r": "" };
function escapeHtml(s: string): string {
  return s.replace(/[&<>"'\r]/g, (c) => ESC[c]);
}

function render(nodes: Node[], data: Tree, global: Tree, locals: Tree): string {
  let out = "";
  for (const n of nodes) {
    switch (n.t) {
      case "text":
        out += n.s;
        break;
      case "var": {
        const v = lookup(data, global, locals, n.path);
        if (typeof v === "string") out += escapeHtml(v);
        break;
      }
      case "if": {
        const value = (o: Operand) => {
          if (!o.index) return lookup(data, global, locals, o.path);
          const key = lookup(data, global, locals, o.index);
          return typeof key === "string" ? lookup(data, global, locals, [...o.path, ...key.split(".")]) : undefined;
        };
        const ok = n.terms.every((t) => {
          const v = value(t.a);
          const r = t.eqB !== null ? v === value(t.eqB)
            : t.eq !== null ? v === t.eq : typeof v === "string" && v !== "" && v !== "0";
          return t.not ? !r : r;
        });
        out += render(ok ? n.then : n.else, data, global, locals);
        break;
      }
      case "each": {
        const list = lookup(data, global, locals, n.path);
        if (Array.isArray(list))
          for (const item of list) out += render(n.body, data, global, { ...locals, [n.name]: item });
        break;
      }
    }
  }
  return out;
}

// templates/lang/*.hdf: `name {`, `}`, `key = value`, `# comment`
function parseHdf(file: string): Tree {
  const root: Tree = {};
  const stack: Tree[] = [root];
  for (const raw of readFileSync(file, "utf8").split("\n")) {
    const line = raw.trim();
    if (!line || line.startsWith("#")) continue;
    const top = stack[stack.length - 1];
    let m: RegExpMatchArray | null;
    if ((m = line.match(/^([\w.]+)\s*\{$/))) {
      const child: Tree = (top[m[1]] as Tree) ?? {};
      top[m[1]] = child;
      stack.push(child);
    } else if (line === "}") {
      stack.pop();
    } else if ((m = line.match(/^([\w.]+)\s*=\s*(.*)$/))) {
      top[m[1]] = m[2];
    }
  }
  return root;
}

const LANGS: Record<string, Tree> = {
  "pt-BR": parseHdf(`${ROOT}/templates/lang/pt-BR.hdf`),
  en: parseHdf(`${ROOT}/templates/lang/en.hdf`),
};
function langString(lang: string, key: string): string {
  const path = ["Lang", ...key.split(".")];
  const v = walk(LANGS[lang], path, 0) ?? walk(LANGS[DEFAULT_LANG], path, 0);
  return typeof v === "string" ? v : key;
}

// the navigation of cgi/modules/modules.c: every module, available or not
const NAV: [string, string][] = [
  ["nav.dashboard", "/dashboard"], ["nav.trading", ""], ["nav.banco", ""], ["nav.p2p", ""],
  ["nav.affiliate", ""], ["nav.mmn", ""], ["nav.notificacoes", ""], ["nav.financeiro", ""],
  ["nav.marketing", ""], ["nav.vendas", ""], ["nav.seguranca", ""], ["nav.sac", ""], ["nav.auditoria", ""],
  ["nav.documentos", ""], ["nav.configuracoes", ""], ["nav.assinaturas", ""],
];

// built once per language into its data set, as cgi/render.c does (Nav.*)
for (const lang of Object.keys(LANGS))
  LANGS[lang].Nav = NAV.map(([key, p]) => (p ? { label: langString(lang, key), path: p } : { label: langString(lang, key) }));

const LOGIN_TPL = parseTemplate("auth/login.cs");

function pickLang(cookieLang: string | undefined, queryLang: string | undefined, accept: string | null): string {
  if (cookieLang && cookieLang in LANGS) return cookieLang;
  if (queryLang && queryLang in LANGS) return queryLang;
  if (accept) {
    for (const part of accept.split(",")) {
      const p = part.trimStart().toLowerCase();
      if (p.startsWith("pt")) return "pt-BR";
      if (p.startsWith("en")) return "en";
    }
  }
  return DEFAULT_LANG;
}

function safeNext(next: string | undefined): string {
  if (!next || next[0] !== "/" || next[1] === "/" || next[1] === "\\" || /[\r\n]/.test(next)) return "/dashboard";
  return next;
}

function cookieValue(c: { value?: unknown } | undefined): string | undefined {
  const v = c?.value;
  return typeof v === "string" ? v : v === undefined || v === null ? undefined : String(v);
}

// ------------------------------------------------------------------ the app
const app = new Elysia()
  .get("/api/v1/dashboard", async ({ request, cookie }) => {
    const rid = requestId(request);
    const s = await sessionLookup(cookieValue(cookie[SESSION_COOKIE]));
    if (!s) return jsonError(401, "unauthenticated", "login required", rid);
    const body = await dashboardSummary(s.tid);
    if (!body)
      return jsonError(503, "unavailable", langString(DEFAULT_LANG, "error.unavailable"), rid);
    // the cached text is already the JSON twin: send it as is
    return new Response(body, { headers: headers("application/json; charset=utf-8", rid) });
  })
  .get("/login", async ({ request, cookie, query }) => {
    const rid = requestId(request);
    const lang = pickLang(cookieValue(cookie.lang), query.lang, request.headers.get("accept-language"));
    const sessionTok = cookieValue(cookie[SESSION_COOKIE]);
    if (sessionTok && (await sessionLookup(sessionTok))) {
      return new Response("", { status: 303, headers: headers("text/plain; charset=utf-8", rid, { Location: "/dashboard" }) });
    }
    let csrf = cookieValue(cookie.bcf_csrf);
    let setCookie: Record<string, string> | undefined;
    if (!csrf || csrf.length < 32) {
      csrf = token(24);
      setCookie = { "Set-Cookie": `bcf_csrf=${csrf}; Path=/; HttpOnly; SameSite=Lax` };
    }
    const path = new URL(request.url).pathname;
    const data: Tree = {
      req: { lang, path, request_id: rid, csrf, other_lang: lang === "en" ? "pt-BR" : "en" },
      page: { title: langString(lang, "auth.title") },
      data: { next: safeNext(query.next) },
    };
    const html = render(LOGIN_TPL, data, LANGS[lang], {});
    return new Response(html, { headers: headers("text/html; charset=utf-8", rid, setCookie) });
  });

if (env.TWIN_SOCKET) {
  app.listen({ unix: env.TWIN_SOCKET });
  chmodSync(env.TWIN_SOCKET, 0o777); // nginx workers run as another user
  console.log(`twin ${process.pid} listening on unix:${env.TWIN_SOCKET}`);
} else {
  app.listen({ hostname: "127.0.0.1", port: Number(env.TWIN_PORT ?? 3000) });
  console.log(`twin ${process.pid} listening on 127.0.0.1:${env.TWIN_PORT ?? 3000}`);
}
