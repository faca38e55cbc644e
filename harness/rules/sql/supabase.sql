-- What a Supabase project has before any app migration, as far as pitstop and
-- the reference app touch it: the platform's roles and Supabase Auth's
-- tables and functions. Written by pitstop from Supabase Auth's documented
-- schema (column names, types, nullability, defaults, constraints); it needs
-- no extension (gen_random_uuid() is core since PostgreSQL 13).
--
-- Applied to a real Supabase database it changes nothing: a role is created
-- only when missing, the auth tables only when auth.users is missing (an
-- auth schema that is there is the project's own, whatever its shape), and
-- the auth functions only when missing. Nothing here is ever replaced.

-- The roles (cluster-wide). anon, authenticated and service_role are NOLOGIN
-- (PostgREST switches to them); authenticator and supabase_auth_admin log in
-- on Supabase (they get no password here).
do $$
begin
    if not exists (select from pg_roles where rolname = 'anon') then
        create role anon nologin noinherit;
    end if;
    if not exists (select from pg_roles where rolname = 'authenticated') then
        create role authenticated nologin noinherit;
    end if;
    if not exists (select from pg_roles where rolname = 'service_role') then
        create role service_role nologin noinherit bypassrls;
    end if;
    if not exists (select from pg_roles where rolname = 'authenticator') then
        create role authenticator login noinherit;
        grant anon, authenticated, service_role to authenticator;
    end if;
    if not exists (select from pg_roles where rolname = 'supabase_auth_admin') then
        create role supabase_auth_admin login noinherit createrole;
    end if;
end;
$$;

create schema if not exists auth;

-- Supabase Auth's tables, when the project has none.
do $$
begin
    if to_regclass('auth.users') is not null then
        return;
    end if;

    -- The grants Supabase makes in a new project's database: the API roles
    -- may use public and get every table made there, so that row-level
    -- security is what keeps anon out.
    grant usage on schema public to anon, authenticated, service_role;
    alter default privileges in schema public grant all on tables to anon, authenticated, service_role;
    alter default privileges in schema public grant all on sequences to anon, authenticated, service_role;
    alter default privileges in schema public grant all on functions to anon, authenticated, service_role;
    grant usage on schema auth to anon, authenticated, service_role;

    create type auth.aal_level as enum ('aal1', 'aal2', 'aal3');
    create type auth.factor_type as enum ('totp', 'webauthn', 'phone');
    create type auth.factor_status as enum ('unverified', 'verified');

    -- No default for id: Supabase Auth always supplies it. Every token column
    -- is nullable, but Supabase Auth reads them into strings, so a NULL one
    -- makes a sign-in fail ("Database error querying schema").
    create table auth.users (
        instance_id uuid,
        id uuid not null primary key,
        aud varchar(255),
        role varchar(255),
        email varchar(255),
        encrypted_password varchar(255),
        email_confirmed_at timestamptz,
        invited_at timestamptz,
        confirmation_token varchar(255),
        confirmation_sent_at timestamptz,
        recovery_token varchar(255),
        recovery_sent_at timestamptz,
        email_change_token_new varchar(255),
        email_change varchar(255),
        email_change_sent_at timestamptz,
        last_sign_in_at timestamptz,
        raw_app_meta_data jsonb,
        raw_user_meta_data jsonb,
        is_super_admin boolean,
        created_at timestamptz,
        updated_at timestamptz,
        phone text unique default null,
        phone_confirmed_at timestamptz,
        phone_change text default '',
        phone_change_token varchar(255) default '',
        phone_change_sent_at timestamptz,
        confirmed_at timestamptz generated always as (least(email_confirmed_at, phone_confirmed_at)) stored,
        email_change_token_current varchar(255) default '',
        email_change_confirm_status smallint default 0
            check (email_change_confirm_status >= 0 and email_change_confirm_status <= 2),
        banned_until timestamptz,
        reauthentication_token varchar(255) default '',
        reauthentication_sent_at timestamptz,
        is_sso_user boolean not null default false,
        deleted_at timestamptz,
        is_anonymous boolean not null default false
    );
    -- An email is unique among the users that are not SSO users only.
    create unique index users_email_partial_key on auth.users (email) where (is_sso_user = false);
    create index users_instance_id_idx on auth.users (instance_id);
    create index users_instance_id_email_idx on auth.users (instance_id, lower(email));
    -- A token is unique once it is set (empty or a numeric code is "not set").
    create unique index confirmation_token_idx on auth.users (confirmation_token)
        where confirmation_token !~ '^[0-9 ]*$';
    create unique index recovery_token_idx on auth.users (recovery_token)
        where recovery_token !~ '^[0-9 ]*$';
    create unique index email_change_token_current_idx on auth.users (email_change_token_current)
        where email_change_token_current !~ '^[0-9 ]*$';
    create unique index email_change_token_new_idx on auth.users (email_change_token_new)
        where email_change_token_new !~ '^[0-9 ]*$';
    create unique index reauthentication_token_idx on auth.users (reauthentication_token)
        where reauthentication_token !~ '^[0-9 ]*$';

    -- One row per way a user signs in; an email user's provider_id is its user id.
    create table auth.identities (
        provider_id text not null,
        user_id uuid not null references auth.users (id) on delete cascade,
        identity_data jsonb not null,
        provider text not null,
        last_sign_in_at timestamptz,
        created_at timestamptz,
        updated_at timestamptz,
        email text generated always as (lower(identity_data ->> 'email')) stored,
        id uuid not null default gen_random_uuid() primary key,
        constraint identities_provider_id_provider_unique unique (provider_id, provider)
    );
    create index identities_user_id_idx on auth.identities (user_id);

    create table auth.sessions (
        id uuid not null primary key,
        user_id uuid not null references auth.users (id) on delete cascade,
        created_at timestamptz,
        updated_at timestamptz,
        factor_id uuid,
        aal auth.aal_level,
        not_after timestamptz,
        refreshed_at timestamp,
        user_agent text,
        ip inet,
        tag text
    );
    create index sessions_user_id_idx on auth.sessions (user_id);

    -- How a session was signed in (the access token's amr claim), one row per method.
    create table auth.mfa_amr_claims (
        session_id uuid not null references auth.sessions (id) on delete cascade,
        created_at timestamptz not null,
        updated_at timestamptz not null,
        authentication_method text not null,
        id uuid not null constraint amr_id_pk primary key,
        constraint mfa_amr_claims_session_id_authentication_method_pkey unique (session_id, authentication_method)
    );

    -- user_id is text and has no foreign key: a user's tokens go with its sessions.
    create table auth.refresh_tokens (
        instance_id uuid,
        id bigserial primary key,
        token varchar(255) unique,
        user_id varchar(255),
        revoked boolean,
        created_at timestamptz,
        updated_at timestamptz,
        parent varchar(255),
        session_id uuid references auth.sessions (id) on delete cascade
    );
    create index refresh_tokens_instance_id_user_id_idx on auth.refresh_tokens (instance_id, user_id);

    create table auth.mfa_factors (
        id uuid not null primary key,
        user_id uuid not null references auth.users (id) on delete cascade,
        friendly_name text,
        factor_type auth.factor_type not null,
        status auth.factor_status not null,
        created_at timestamptz not null,
        updated_at timestamptz not null,
        secret text,
        phone text,
        last_challenged_at timestamptz unique
    );
    create index mfa_factors_user_id_idx on auth.mfa_factors (user_id);

    alter table auth.users enable row level security;
    alter table auth.identities enable row level security;
    alter table auth.sessions enable row level security;
    alter table auth.refresh_tokens enable row level security;
    alter table auth.mfa_amr_claims enable row level security;
    alter table auth.mfa_factors enable row level security;
end;
$$;

-- What row-level security policies call: the request's JWT claims, which
-- PostgREST puts in the request.jwt.claims setting (older versions: one
-- request.jwt.claim.<name> setting per claim).
do $$
begin
    if to_regprocedure('auth.jwt()') is null then
        create function auth.jwt() returns jsonb
        language sql stable
        as 'select coalesce(nullif(current_setting(''request.jwt.claim'', true), ''''),
                            nullif(current_setting(''request.jwt.claims'', true), ''''))::jsonb';
    end if;
    if to_regprocedure('auth.uid()') is null then
        create function auth.uid() returns uuid
        language sql stable
        as 'select coalesce(nullif(current_setting(''request.jwt.claim.sub'', true), ''''),
                            nullif(current_setting(''request.jwt.claims'', true), '''')::jsonb ->> ''sub'')::uuid';
    end if;
    if to_regprocedure('auth.role()') is null then
        create function auth.role() returns text
        language sql stable
        as 'select coalesce(nullif(current_setting(''request.jwt.claim.role'', true), ''''),
                            nullif(current_setting(''request.jwt.claims'', true), '''')::jsonb ->> ''role'')';
    end if;
    if to_regprocedure('auth.email()') is null then
        create function auth.email() returns text
        language sql stable
        as 'select coalesce(nullif(current_setting(''request.jwt.claim.email'', true), ''''),
                            nullif(current_setting(''request.jwt.claims'', true), '''')::jsonb ->> ''email'')';
    end if;
end;
$$;
