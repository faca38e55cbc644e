import { defineConfig } from '@playwright/test';

// The target and the browser come from the runner's environment (README.md).
export default defineConfig({
  testDir: '.',
  testMatch: '*.spec.ts',
  fullyParallel: true, // --workers=2 splits the tests of one file
  retries: 0,
  timeout: 60_000,
  expect: { timeout: 15_000 },
  reporter: 'line', // the runner chooses with --reporter
  use: {
    baseURL: process.env.PEER_APP_URL,
    testIdAttribute: 'data-testid',
    headless: true,
    launchOptions: {
      executablePath: process.env.PEER_CHROMIUM || undefined,
      args: ['--disable-gpu', '--disable-background-networking', '--disable-component-update', '--disable-sync', '--no-first-run'],
    },
    trace: 'off',
    screenshot: 'off',
    video: 'off',
  },
});
