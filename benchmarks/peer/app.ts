// The app's pages as the tests use them: its test data, and the few steps more than one test takes.
import type { Page } from '@playwright/test';
import type pg from 'pg';
import { activeSession, expect, test, type Session, type TestUser } from './fixtures';

export const QUICK_CHAT = { slug: 'quick-chat', name: 'Quick Chat' };

export const VEHICLES = [
  { year: 2016, make: 'Honda', model: 'Civic', mileage: 84000, description: 'Grinding noise from the front left wheel when braking.' },
  { year: 2019, make: 'Toyota', model: 'RAV4', mileage: 52000, description: 'Check engine light came on after refuelling.' },
  { year: 2012, make: 'Ford', model: 'Focus', mileage: 131000, description: 'Car hesitates when accelerating from a stop.' },
];

export const CARDS = {
  visa: { number: '4242424242424242', exp_month: '12', exp_year: '2034', cvc: '123', postal_code: '94107' },
  declined: { number: '4000000000000002', exp_month: '12', exp_year: '2034', cvc: '123', postal_code: '94107' },
};

export const DECLINED_MESSAGE = 'Your card was declined.';
export const BLOCKED_MESSAGE = 'Customer already has an active session';

type Purchase = { plan?: typeof QUICK_CHAT; vehicle?: (typeof VEHICLES)[number]; card?: (typeof CARDS)['visa'] };

/** The customer buys a plan: plans → intake → the card form, up to pressing Pay. */
export async function pay(page: Page, { plan = QUICK_CHAT, vehicle = VEHICLES[0], card = CARDS.visa }: Purchase = {}) {
  await page.goto('/onboarding/pricing');
  await page.getByTestId(`plan-${plan.slug}`).getByTestId('choose-plan').click();

  await page.getByTestId('vehicle-year').fill(String(vehicle.year));
  await page.getByTestId('vehicle-make').fill(vehicle.make);
  await page.getByTestId('vehicle-model').fill(vehicle.model);
  await page.getByTestId('vehicle-mileage').fill(String(vehicle.mileage));
  await page.getByTestId('problem-description').fill(vehicle.description);
  await page.getByTestId('intake-submit').click();

  // The test-mode Stripe's card element: five plain inputs (its year input takes two digits).
  const cardElement = page.getByTestId('card-element');
  await cardElement.getByPlaceholder('number').fill(card.number);
  await cardElement.getByPlaceholder('exp_month').fill(card.exp_month);
  await cardElement.getByPlaceholder('exp_year').fill(card.exp_year.slice(-2));
  await cardElement.getByPlaceholder('cvc').fill(card.cvc);
  await cardElement.getByPlaceholder('postal_code').fill(card.postal_code);
  await page.getByTestId('pay-button').click();
}

/** After paying: the success page shows the new session, waiting for a mechanic. */
export async function expectWaiting(page: Page) {
  await expect(page.getByTestId('payment-success')).toBeVisible();
  await expect(page.getByTestId('session-status')).toHaveText('waiting');
}

/** Pay with the Visa card and wait until the app made the session; the session. */
export async function paidSession(page: Page, db: pg.Pool, customer: TestUser, purchase: Purchase = {}) {
  await pay(page, purchase);
  await expectWaiting(page);
  return activeSession(db, customer);
}

/** The mechanic's list shows this session's request: the customer's name and the plan's. */
export async function expectRequest(page: Page, session: Session, customer: TestUser, plan = QUICK_CHAT) {
  const row = page.getByTestId(`request-${session.request_id}`);
  await expect(row.getByTestId('request-customer')).toHaveText(customer.name);
  await expect(row.getByTestId('request-plan')).toHaveText(plan.name);
}

export function chatURL(session: Session) {
  return new RegExp(`/session/${session.id}$`);
}

/** The server has subscribed the chat page to the session and sent its history. */
export async function expectSubscribed(page: Page) {
  await expect(page.getByTestId('chat')).toHaveAttribute('data-ready', 'true');
}

export function message(page: Page, text: string) {
  return page.getByTestId('chat-message').filter({ has: page.getByTestId('message-body').getByText(text, { exact: true }) });
}

export async function send(page: Page, text: string) {
  await page.getByTestId('chat-input').fill(text);
  await page.getByTestId('chat-send').click();
}

/** The chat shows `text` from `sender`, with the time it was sent. */
export async function expectMessage(page: Page, text: string, sender: TestUser) {
  const shown = message(page, text);
  await expect(shown.getByTestId('message-sender')).toHaveText(sender.name);
  await expect(shown.getByTestId('message-time')).toHaveAttribute('datetime', /\d{4}-\d\d-\d\dT/);
}

/** The chat shows the session ended, without a reload. */
export async function expectEnded(page: Page) {
  await expect(page.getByTestId('session-ended')).toBeVisible();
  await expect(page.getByTestId('chat')).toHaveAttribute('data-status', 'completed');
}

type FlowArgs = { customerPage: Page; mechanicPage: Page; customer: TestUser; mechanic: TestUser; db: pg.Pool };

/** The whole flow, as two real browser users: payment → accept → chat → end session. */
export async function fullFlow({ customerPage, mechanicPage, customer, mechanic, db }: FlowArgs) {
  const session = await test.step('the customer picks "Quick Chat", describes the car and pays by card', async () => {
    const paid = await paidSession(customerPage, db, customer, { plan: QUICK_CHAT, vehicle: VEHICLES[0], card: CARDS.visa });
    await customerPage.goto('/customer/dashboard');
    await expect(customerPage.getByTestId('next-session-status')).toHaveText('waiting');
    return paid;
  });

  await test.step('the mechanic sees this very request (name, plan) and accepts it', async () => {
    await mechanicPage.goto('/mechanic/dashboard');
    await expectRequest(mechanicPage, session, customer, QUICK_CHAT);
    await mechanicPage.getByTestId(`accept-${session.request_id}`).click();
    await expect(mechanicPage).toHaveURL(chatURL(session));
    await expect(customerPage.getByTestId('next-session-status')).toHaveText('live');
  });

  await test.step('both are in the chat, subscribed, before anything is said', async () => {
    await customerPage.getByTestId('join-session').click();
    await expectSubscribed(customerPage);
    await expectSubscribed(mechanicPage); // the accept brought the mechanic here
  });

  const hello = 'Hello, I need help with my car';
  const reply = 'Hi! What seems to be the problem?';
  await test.step('they talk; each sees both messages, in order, with sender and time', async () => {
    await send(customerPage, hello);
    await expect(message(mechanicPage, hello)).toBeVisible();
    await send(mechanicPage, reply);
    await expect(message(customerPage, reply)).toBeVisible();
    for (const page of [customerPage, mechanicPage]) {
      await expectMessage(page, hello, customer);
      await expectMessage(page, reply, mechanic);
      await expect(page.getByTestId('chat-message').getByTestId('message-body')).toHaveText([hello, reply]);
    }
  });

  await test.step('the mechanic ends the session; both see it end without a reload', async () => {
    await mechanicPage.getByTestId('end-session').click();
    await expectEnded(mechanicPage);
    await expectEnded(customerPage);
  });

  await test.step("the customer's history shows it completed, and nothing is upcoming", async () => {
    await customerPage.goto('/customer/dashboard');
    const item = customerPage.getByTestId('session-history').getByTestId('history-item').and(customerPage.locator(`[data-session-id="${session.id}"]`));
    await expect(item).toHaveAttribute('data-status', 'completed');
    await expect(customerPage.getByTestId('no-upcoming-sessions')).toBeVisible();
  });
}
