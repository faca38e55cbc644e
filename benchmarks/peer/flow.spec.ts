// The shipped full UI flow, eight times: eight tests of one file, which --workers=N shares out.
import { fullFlow } from './app';
import { test } from './fixtures';

for (let i = 0; i < 8; i++) {
  test(`customer pays, mechanic accepts, they chat and the mechanic ends it ${i}`, async ({ customerPage, mechanicPage, customer, mechanic, db }) => {
    await fullFlow({ customerPage, mechanicPage, customer, mechanic, db });
  });
}
