-- An app that imitates Supabase with a smaller auth.users: an id with a
-- default, a fully unique email, a password and metadata, and nothing of
-- Supabase Auth's sign-in columns or its identities.
create schema if not exists auth;

create table auth.users (
    id uuid primary key default gen_random_uuid(),
    email text unique not null,
    encrypted_password text,
    raw_user_meta_data jsonb not null default '{}',
    created_at timestamptz not null default now()
);
