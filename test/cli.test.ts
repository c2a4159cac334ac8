// The commands of CONTRACT 4, run as a user runs them: a real process, real files, exit statuses.
import { createServer, type AddressInfo } from 'node:net';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { stringify } from 'yaml';
import { basePolicies, baseRequest, cli, tempTree } from './helpers.js';

const permitRule = { id: 'p1', citation: 'Art. 1', effect: 'permit', categories: ['fiscal'] };

function project(rules: unknown[] = [permitRule], extra: Record<string, string> = {}): { dir: string; args: string[] } {
  const dir = tempTree({
    'policies/covenant.yaml': stringify(basePolicies),
    'rules/rules.json': JSON.stringify({ rules }, null, 2),
    ...extra,
  });
  return { dir, args: ['--policies', join(dir, 'policies'), '--rules', join(dir, 'rules')] };
}

describe('covenant validate', () => {
  it('exits 0 on valid files and summarises them', () => {
    const { args } = project();
    const r = cli(['validate', ...args]);
    expect(r.status).toBe(0);
    expect(r.stdout).toMatch(/valid: covenant `t` from 2 files .* 1 rule\)/);
  });

  it('exits 1 and prints file:line:col: error: message [code] on invalid files', () => {
    const { dir, args } = project([{ ...permitRule, providers: ['nobody'] }]);
    const r = cli(['validate', ...args]);
    expect(r.status).toBe(1);
    expect(r.stderr).toContain(`${join(dir, 'rules', 'rules.json')}:11:9: error: unknown partner \`nobody\` [unknown-reference]`);
  });

  it('prints JSON with --format json', () => {
    const { args } = project([{ ...permitRule, providers: ['nobody'] }]);
    const r = cli(['validate', '--format', 'json', ...args]);
    expect(r.status).toBe(1);
    const out = JSON.parse(r.stdout);
    expect(out).toMatchObject({ valid: false, errors: 1 });
    expect(out.diagnostics[0]).toMatchObject({ code: 'unknown-reference', line: 11, column: 9, path: '/rules/0/providers/0' });
  });

  it('reads the folders from the environment', () => {
    const { dir } = project();
    const r = cli(['validate'], { cwd: dir, env: { COVENANT_POLICIES: 'policies', COVENANT_RULES: 'rules' } });
    expect(r.status).toBe(0);
  });

  it('exits 1 when a folder does not exist', () => {
    const r = cli(['validate', '--policies', '/nonexistent/p', '--rules', '/nonexistent/r']);
    expect(r.status).toBe(1);
    expect(r.stderr).toContain('does not exist');
  });
});

describe('covenant decide', () => {
  it('prints one decision as JSON and exits 0, for permit and deny alike', () => {
    const { args } = project();
    const permit = cli(['decide', '-', ...args], { input: JSON.stringify(baseRequest) });
    expect(permit.status).toBe(0);
    expect(JSON.parse(permit.stdout)).toMatchObject({ decision: 'permit', categories: [{ category: 'fiscal.income', decision: 'permit', rules: ['p1'] }] });
    const deny = cli(['decide', ...args], { input: JSON.stringify({ ...baseRequest, dataCategories: ['police'] }) });
    expect(deny.status).toBe(0);
    expect(JSON.parse(deny.stdout)).toMatchObject({ decision: 'deny', decisionId: expect.stringMatching(/^[0-9A-Z]{26}$/) });
  });

  it('decides as asked by a unit and function with --unit and --function, and policy tests may say who asks', () => {
    const screened = { ...permitRule, when: { all: [{ fact: 'function', operator: 'equal', value: 'screened' }, { fact: 'unit', operator: 'equal', value: 'noord' }] } };
    const caseFor = (caller: Record<string, string> | undefined, expect: string) => ({ name: `as ${JSON.stringify(caller)}`, request: baseRequest, expect, ...(caller && { caller }) });
    const { args } = project([screened], {
      'rules/who.test.yaml': stringify({ tests: [caseFor({ unit: 'noord', function: 'screened' }, 'permit'), caseFor(undefined, 'deny'), caseFor({ unit: 'zuid', function: 'screened' }, 'deny')] }),
    });
    expect(JSON.parse(cli(['decide', '-', '--unit', 'noord', '--function', 'screened', ...args], { input: JSON.stringify(baseRequest) }).stdout).decision).toBe('permit');
    expect(JSON.parse(cli(['decide', '-', '--function', 'screened', ...args], { input: JSON.stringify(baseRequest) }).stdout).decision).toBe('deny');
    const tested = cli(['test', ...args]);
    expect(tested.stdout.trim().split('\n').at(-1)).toBe('3 passed, 0 failed');
    expect(tested.status).toBe(0);
  });

  it('keys carry a unit and a function, listed beside the partner; anything but an id is refused', () => {
    const { dir, args } = project();
    const data = ['--data', join(dir, 'data')];
    const added = cli(['keys', 'add', '--role', 'partner', '--partner', 'a', '--unit', 'regio-noord', '--function', 'screened', ...data, ...args]);
    expect(added.status).toBe(0);
    expect(cli(['keys', 'list', ...data]).stdout).toMatch(/partner\s+a\s+active\s+regio-noord\/screened/);
    const bad = cli(['keys', 'add', '--role', 'partner', '--partner', 'a', '--unit', 'regio noord', ...data, ...args]);
    expect(bad.status).toBe(2);
    expect(bad.stderr).toContain('--unit takes an id');
  });

  it('refuses derivedFrom, which needs the service log; policy tests give the origin instead', () => {
    const noOnward = { id: 'no-onward', citation: 'Art. 2', effect: 'deny', when: { all: [{ fact: 'origin', path: '$.providers', operator: 'contains', value: 'c' }] } };
    const origin = (providers: string[]) => ({ decisions: ['01ARZ3NDEKTSV4RRFFQ69G5FAV'], providers, categories: ['fiscal'], purposes: ['nsoc'], legalBases: ['lb'] });
    const request = { ...baseRequest, derivedFrom: ['01ARZ3NDEKTSV4RRFFQ69G5FAV'] };
    const { args } = project([permitRule, noOnward], {
      'rules/onward.test.yaml': stringify({
        tests: [
          { name: 'from c, not onward', request, origin: origin(['c']), expect: 'deny' },
          { name: 'from b, onward', request, origin: origin(['b']), expect: 'permit' },
        ],
      }),
    });
    const decided = cli(['decide', '-', ...args], { input: JSON.stringify(request) });
    expect(decided.status).toBe(2);
    expect(decided.stderr).toContain('`derivedFrom` names decisions in a service\'s log');
    const tested = cli(['test', ...args]);
    expect(tested.stdout.trim().split('\n').at(-1)).toBe('2 passed, 0 failed');
  });

  it('reads a request file, and --at stands in for an absent requestedAt', () => {
    const { requestedAt: _, ...request } = baseRequest;
    const { dir, args } = project([{ ...permitRule, validUntil: '2025-06-30' }], { 'req.json': JSON.stringify(request) });
    const early = cli(['decide', join(dir, 'req.json'), '--at', '2025-03-01T00:00:00Z', ...args]);
    expect(JSON.parse(early.stdout).decision).toBe('permit');
    const late = cli(['decide', join(dir, 'req.json'), '--at', '2025-07-01T00:00:00Z', ...args]);
    expect(JSON.parse(late.stdout).decision).toBe('deny');
    const given = cli(['decide', '-', '--at', '2025-07-01T00:00:00Z', ...args], { input: JSON.stringify(baseRequest) });
    expect(JSON.parse(given.stdout).decision).toBe('permit');
  });

  it('exits 2 on a malformed request, an unknown id, or unreadable input; nothing on stdout', () => {
    const { args } = project();
    for (const input of ['{"provider": ', JSON.stringify({ ...baseRequest, extra: true }), JSON.stringify({ ...baseRequest, purpose: 'nope' })]) {
      const r = cli(['decide', ...args], { input });
      expect(r.status).toBe(2);
      expect(r.stdout).toBe('');
      expect(r.stderr).toMatch(/error/);
    }
    expect(cli(['decide', '/nonexistent.json', ...args]).status).toBe(2);
    expect(cli(['decide', '--at', 'yesterday', ...args], { input: JSON.stringify(baseRequest) }).status).toBe(2);
  });

  it('exits 1 when the rule files are invalid', () => {
    const { args } = project([{ ...permitRule, effect: 'allow' }]);
    expect(cli(['decide', ...args], { input: JSON.stringify(baseRequest) }).status).toBe(1);
  });
});

describe('covenant test', () => {
  const testFile = (tests: unknown[]) => stringify({ tests });
  const good = { name: 'income may go', request: baseRequest, expect: 'permit', rules: ['p1'] };

  it('runs the test files under the folders by default, reports each case and coverage, exits 0', () => {
    const { args } = project([permitRule, { id: 'p2', citation: 'Art. 2', effect: 'permit', categories: ['police'] }], {
      'rules/r.test.yaml': testFile([good]),
    });
    const r = cli(['test', ...args]);
    expect(r.status).toBe(0);
    expect(r.stdout).toContain('ok    income may go');
    expect(r.stdout).toContain('coverage: 1/2 rules exercised; not exercised by any test: p2');
    expect(r.stdout.trim().split('\n').at(-1)).toBe('1 passed, 0 failed');
  });

  it('exits 1 on a failing case and shows expected against actual with the reasons', () => {
    const { dir, args } = project([permitRule], { 't/x.test.json': JSON.stringify({ tests: [{ ...good, expect: 'deny' }] }) });
    const r = cli(['test', join(dir, 't'), ...args]);
    expect(r.status).toBe(1);
    expect(r.stdout).toContain('FAIL  income may go');
    expect(r.stdout).toContain('expected deny, got permit');
    expect(r.stdout).toContain('Art. 1 permits a to provide fiscal.income to b.');
  });

  it('fails a case whose expected rule did not apply', () => {
    const { dir, args } = project([permitRule, { id: 'p2', citation: 'Art. 2', effect: 'permit', categories: ['police'] }], {
      'x.test.yaml': testFile([{ ...good, rules: ['p2'] }]),
    });
    const r = cli(['test', join(dir, 'x.test.yaml'), '--format', 'json', ...args]);
    expect(r.status).toBe(1);
    expect(JSON.parse(r.stdout)).toMatchObject({ passed: 0, failed: 1, results: [{ missingRules: ['p2'] }] });
  });

  it('exits 1 when no test ran', () => {
    const { args } = project();
    expect(cli(['test', ...args]).status).toBe(1);
  });

  it('exits 2 on an invalid test file, naming the place', () => {
    const { dir, args } = project([permitRule], { 'x.test.yaml': testFile([{ ...good, expect: 'maybe' }]) });
    const r = cli(['test', join(dir, 'x.test.yaml'), ...args]);
    expect(r.status).toBe(2);
    expect(r.stderr).toMatch(/x\.test\.yaml:\d+:\d+: error: must be one of `permit`, `deny`/);
    const unknown = project([permitRule], { 'y.test.yaml': testFile([{ ...good, request: { ...baseRequest, provider: 'zz' } }]) });
    expect(cli(['test', join(unknown.dir, 'y.test.yaml'), ...unknown.args]).status).toBe(2);
    expect(cli(['test', '/nonexistent.test.yaml', ...args]).status).toBe(2);
  });
});

describe('covenant serve', () => {
  it('exits 1 with a plain message when its port is taken, and leaves nothing running', async () => {
    const taken = createServer();
    await new Promise<void>((resolve) => taken.listen(0, '127.0.0.1', resolve));
    const { port } = taken.address() as AddressInfo;
    try {
      const started = Date.now();
      const r = cli(['serve', '--port', String(port), '--data', tempTree({})]);
      expect(r.status).toBe(1);
      expect(r.stderr).toBe(`error: cannot start: port ${port} on 127.0.0.1 is already in use\n`);
      // it exited by itself: no watcher, timer or open log kept it alive
      expect(Date.now() - started).toBeLessThan(30_000);
    } finally {
      taken.close();
    }
  });
});

describe('covenant --help', () => {
  it('prints usage and exits 0; an unknown command exits 2', () => {
    const r = cli(['--help']);
    expect(r.status).toBe(0);
    expect(r.stdout).toContain('validate');
    expect(cli(['decide', '--help']).stdout).toContain('--at');
    expect(cli(['frobnicate']).status).toBe(2);
  });
});

describe('the example covenant', () => {
  it('is valid and its tests pass with every rule exercised', () => {
    expect(cli(['validate']).status).toBe(0);
    const r = cli(['test']);
    expect(r.status).toBe(0);
    expect(r.stdout).toMatch(/coverage: (\d+)\/\1 rules exercised\n/);
  });
});
