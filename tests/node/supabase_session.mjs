// What Supabase's own client libraries make of the session pitstop writes (tests/test_supabase_libraries.py).
// Reads one JSON object on stdin, prints one on stdout:
//   server:  @supabase/ssr's server client, reading pitstop's cookies: auth.getSession()'s user
//   browser: supabase-js's client, reading pitstop's localStorage entry under its default key
//   written: the cookies @supabase/ssr itself writes when its browser client stores the same session
//   verified: jose's verification of the access token with the JWT secret
import { createBrowserClient, createServerClient } from "@supabase/ssr";
import { createClient } from "@supabase/supabase-js";
import { jwtVerify } from "jose";
import WebSocket from "ws";

const input = JSON.parse(await new Promise((resolve) => {
  let text = "";
  process.stdin.on("data", (chunk) => (text += chunk));
  process.stdin.on("end", () => resolve(text));
}));
const { url, anonKey, cookies, localStorage, session, secret, issuer } = input;
// supabase-js needs a WebSocket (for realtime) on Node before 22.
const realtime = { transport: WebSocket };
const who = (result) => {
  const user = result.data.session?.user;
  return { user_id: user?.id ?? null, email: user?.email ?? null, error: result.error?.message ?? null };
};
const out = {};

if (cookies) {
  const server = createServerClient(url, anonKey, {
    cookies: { getAll: () => cookies, setAll: () => {} },
    realtime,
  });
  out.server = who(await server.auth.getSession());
}

if (localStorage) {
  const items = new Map([[localStorage.name, localStorage.value]]);
  const browser = createClient(url, anonKey, {
    auth: {
      storage: {
        getItem: (key) => items.get(key) ?? null,
        setItem: (key, value) => items.set(key, value),
        removeItem: (key) => items.delete(key),
      },
      autoRefreshToken: false,
      detectSessionInUrl: false,
    },
    realtime,
  });
  out.browser = who(await browser.auth.getSession());
}

if (session) {
  const written = [];
  const writer = createBrowserClient(url, anonKey, {
    cookies: { getAll: () => [], setAll: (list) => written.push(...list) },
    isSingleton: false,
    realtime,
  });
  // The library's own way of keeping a session it was given (signInWithPassword ends in it).
  await writer.auth._saveSession(session);
  out.written = written.map(({ name, value, options }) => ({ name, value, options }));
}

if (secret) {
  const { payload } = await jwtVerify(session.access_token, new TextEncoder().encode(secret), {
    audience: "authenticated",
    issuer,
  });
  out.verified = payload;
}

process.stdout.write(JSON.stringify(out));
process.exit(0);
