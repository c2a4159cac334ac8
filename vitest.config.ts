import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    globalSetup: ['test/global-setup.ts'],
    testTimeout: 60_000,
    hookTimeout: 60_000,
    // the JSON report is what .ci/run reads for its closing `N passed, N failed` line
    reporters: ['default', ['json', { outputFile: 'test-results/vitest.json' }]],
  },
});
