// The test fixtures: one customer and one mechanic (and a second mechanic where a test asks for
// one) per worker, made in the database as Supabase Auth makes users, signed in once per worker
// through the login form; a fresh browser context per persona per test; each test starts with the
// worker's users purged of their session state. Plus the few database reads and writes the tests
// need.
import { randomBytes } from 'node:crypto';
import { test as base, expect, type Browser, type BrowserContext, type Page } from '@playwright/test';
import bcrypt from 'bcryptjs';
import pg from 'pg';

export type Role = 'customer' | 'mechanic';

export type TestUser = { id: string; email: string; password: string; name: string; role: Role };

export type Session = { id: string; status: string; request_id: string | null; payment_intent_id: string | null };

type StorageState = Awaited<ReturnType<BrowserContext['storageState']>>;

const RUN = process.env.PEER_RUN ?? `local-${Date.now().toString(36)}`;
const TEST_DOMAIN = process.env.PEER_TEST_DOMAIN ?? 'pitstop.test';
const SIGN_IN_TIMEOUT_MS = 15_000;
// Supabase Auth's own hashes are bcrypt $2a$ at cost 10; a sign-in reads the cost from the hash, and a
// throwaway test user's random password needs no such protection: cost 4, as pitstop's test users.
const BCRYPT_COST = 4;

type WorkerFixtures = {
  db: pg.Pool;
  workerUsers: TestUser[];
  customer: TestUser;
  mechanic: TestUser;
  secondMechanic: TestUser;
  customerState: StorageState;
  mechanicState: StorageState;
  secondMechanicState: StorageState;
};

type TestFixtures = {
  resetUsers: void;
  customerPage: Page;
  mechanicPage: Page;
  secondMechanicPage: Page;
};

// -- test users, in the database ------------------------------------------------------------------

// A confirmed email user as Supabase Auth's admin API writes one (empty strings, never NULL, in the
// token columns it reads), its email identity, and the app's profile: one statement.
const CREATE_USER = `
  with u as (
    insert into auth.users (
      instance_id, id, aud, role, email, encrypted_password, email_confirmed_at,
      raw_app_meta_data, raw_user_meta_data, created_at, updated_at,
      confirmation_token, recovery_token, email_change_token_new, email_change,
      email_change_token_current, phone_change, phone_change_token, reauthentication_token,
      email_change_confirm_status, is_sso_user, is_anonymous)
    values (
      '00000000-0000-0000-0000-000000000000', gen_random_uuid(), 'authenticated', 'authenticated',
      $1, $2, now(), '{"provider": "email", "providers": ["email"]}', $3, now(), now(),
      '', '', '', '', '', '', '', '', 0, false, false)
    returning id, email
  ), i as (
    insert into auth.identities (provider_id, user_id, identity_data, provider, last_sign_in_at, created_at, updated_at)
    select u.id::text, u.id,
           jsonb_build_object('sub', u.id::text, 'email', lower(u.email), 'email_verified', true, 'phone_verified', false),
           'email', now(), now(), now()
    from u
  ), p as (
    insert into public.profiles (id, role, full_name) select u.id, $4, $5 from u
    on conflict (id) do update set role = excluded.role, full_name = excluded.full_name
  )
  select id from u`;

async function createUser(db: pg.Pool, label: string, role: Role, worker: number): Promise<TestUser> {
  const email = `${label}-w${worker}-${RUN}@${TEST_DOMAIN}`;
  const password = randomBytes(15).toString('base64url');
  const name = `${label.replace('-', ' ')} ${worker} ${RUN}`.replace(/^./, (c) => c.toUpperCase());
  const hash = await bcrypt.hash(password, BCRYPT_COST); // $2a$, as Supabase Auth stores them
  // Both marks of a test user: an email in the test domain and "pitstop": true.
  const metadata = { pitstop: true, full_name: name, role, run: RUN, worker: `w${worker}` };
  const { rows } = await db.query(CREATE_USER, [email, hash, metadata, role, name]);
  return { id: rows[0].id, email, password, name, role };
}

// -- signing in, once per worker ------------------------------------------------------------------

async function signIn(browser: Browser, baseURL: string | undefined, user: TestUser): Promise<StorageState> {
  const context = await browser.newContext({ baseURL });
  const page = await context.newPage();
  const loginPath = `/${user.role}/login`;
  await page.goto(loginPath);
  await page.getByTestId('login-email').fill(user.email);
  await page.getByTestId('login-password').fill(user.password);
  await page.getByTestId('login-submit').click();
  // Signed in: the app sends the user anywhere but the login form.
  await page.waitForURL((url) => !url.href.includes(loginPath), { timeout: SIGN_IN_TIMEOUT_MS });
  const state = await context.storageState();
  await context.close();
  return state;
}

async function newPage(browser: Browser, baseURL: string | undefined, storageState: StorageState, use: (page: Page) => Promise<void>) {
  const context = await browser.newContext({ baseURL, storageState });
  await use(await context.newPage());
  await context.close();
}

// -- the fixtures ------------------------------------------------------------------------------------

export const test = base.extend<TestFixtures, WorkerFixtures>({
  db: [async ({}, use) => {
    const pool = new pg.Pool({ connectionString: process.env.PEER_DATABASE_URL });
    await use(pool);
    await pool.end();
  }, { scope: 'worker' }],

  // The users this worker made so far (each made on first use), purged before each test.
  workerUsers: [async ({}, use) => {
    await use([]);
  }, { scope: 'worker' }],

  customer: [async ({ db, workerUsers }, use, workerInfo) => {
    const user = await createUser(db, 'customer', 'customer', workerInfo.workerIndex);
    workerUsers.push(user);
    await use(user);
    await db.query('select pitstop.delete_test_user($1)', [user.id]);
  }, { scope: 'worker' }],

  mechanic: [async ({ db, workerUsers }, use, workerInfo) => {
    const user = await createUser(db, 'mechanic', 'mechanic', workerInfo.workerIndex);
    workerUsers.push(user);
    await use(user);
    await db.query('select pitstop.delete_test_user($1)', [user.id]);
  }, { scope: 'worker' }],

  secondMechanic: [async ({ db, workerUsers }, use, workerInfo) => {
    const user = await createUser(db, 'second-mechanic', 'mechanic', workerInfo.workerIndex);
    workerUsers.push(user);
    await use(user);
    await db.query('select pitstop.delete_test_user($1)', [user.id]);
  }, { scope: 'worker' }],

  // One account per parallel worker, signed in once through the login form (Playwright's auth docs).
  customerState: [async ({ browser, customer }, use, workerInfo) => {
    await use(await signIn(browser, workerInfo.project.use.baseURL, customer));
  }, { scope: 'worker' }],

  mechanicState: [async ({ browser, mechanic }, use, workerInfo) => {
    await use(await signIn(browser, workerInfo.project.use.baseURL, mechanic));
  }, { scope: 'worker' }],

  secondMechanicState: [async ({ browser, secondMechanic }, use, workerInfo) => {
    await use(await signIn(browser, workerInfo.project.use.baseURL, secondMechanic));
  }, { scope: 'worker' }],

  // Before each test: the worker's users lose their sessions, requests and messages (one statement).
  resetUsers: [async ({ db, workerUsers }, use) => {
    if (workerUsers.length > 0) {
      await db.query('select pitstop.purge_user(id) from unnest($1::uuid[]) as id', [workerUsers.map((u) => u.id)]);
    }
    await use();
  }, { auto: true }],

  // Each persona in a browser context of its own, made from its signed-in state.
  customerPage: async ({ browser, baseURL, customerState }, use) => {
    await newPage(browser, baseURL, customerState, use);
  },

  mechanicPage: async ({ browser, baseURL, mechanicState }, use) => {
    await newPage(browser, baseURL, mechanicState, use);
  },

  secondMechanicPage: async ({ browser, baseURL, secondMechanicState }, use) => {
    await newPage(browser, baseURL, secondMechanicState, use);
  },
});

export { expect };

// -- the database, where a test reads or arranges it ---------------------------------------------------

const ACTIVE_SESSION = `
  select s.id, s.status, s.payment_intent_id,
         (select r.id from public.session_requests r where r.session_id = s.id
          order by r.created_at desc limit 1) as request_id
  from public.sessions s
  where (s.customer_id = $1 or s.mechanic_id = $1) and s.status in ('pending', 'waiting', 'live')
  order by s.created_at desc limit 1`;

/** The user's newest pending, waiting or live session, once the app has made it (polled every 50 ms). */
export async function activeSession(db: pg.Pool, user: TestUser): Promise<Session> {
  let session: Session | undefined;
  await expect
    .poll(async () => (session = (await db.query(ACTIVE_SESSION, [user.id])).rows[0]), {
      message: `${user.email} has an active session`,
      intervals: [50],
    })
    .toBeDefined();
  return session!;
}

/** The user's sessions (as customer or mechanic), oldest first. */
export async function sessionsOf(db: pg.Pool, user: TestUser): Promise<{ id: string; status: string }[]> {
  const { rows } = await db.query(
    'select id, status from public.sessions where customer_id = $1 or mechanic_id = $1 order by created_at',
    [user.id],
  );
  return rows;
}

/** Make a session (and its request) look as if it was made `minutes` ago. */
export async function backdate(db: pg.Pool, session: Session, minutes: number): Promise<void> {
  await db.query(
    `with s as (
       update public.sessions set created_at = now() - make_interval(mins => $2) where id = $1 returning id
     )
     update public.session_requests set created_at = now() - make_interval(mins => $2)
     where session_id in (select id from s)`,
    [session.id, minutes],
  );
}

/**
 * A session of the past that no payment can make any more (a customer has one open session at a
 * time): its request in `request` status, both made `minutes` ago.
 */
export async function insertPastSession(
  db: pg.Pool,
  customer: TestUser,
  { status, request, minutes, vehicle }: { status: string; request: string; minutes: number; vehicle: object },
): Promise<Session> {
  const { rows } = await db.query(
    `with s as (
       insert into public.sessions (customer_id, plan, status, created_at, ended_at)
       values ($1, 'Quick Chat', $2::text, now() - make_interval(mins => $4),
               case when $2::text in ('completed', 'cancelled') then now() end)
       returning id, status, created_at
     ), r as (
       insert into public.session_requests (session_id, customer_id, plan, status, vehicle, created_at)
       select s.id, $1, 'Quick Chat', $3, $5, s.created_at from s
       returning id
     )
     select s.id, s.status, r.id as request_id, null as payment_intent_id from s, r`,
    [customer.id, status, request, minutes, vehicle],
  );
  return rows[0];
}
