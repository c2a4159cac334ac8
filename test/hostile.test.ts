// What an outside probe of the service found, each held by a test through real servers, files and
// processes: hostile text in exports and on terminals.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parse } from 'csv-parse/sync';
import { cli, tempTree } from './helpers.js';
import { testServer, type TestServer } from './server-helpers.js';

let s: TestServer;
beforeAll(async () => {
  s = await testServer();
});
afterAll(async () => {
  await s.server.close();
});

const ESC = '\u001b';
const hostile = ['=1+1', '=HYPERLINK("http://evil.example","click")', '+1', '-2+3', '@SUM(A1)', '\tx', `${ESC}[31mred${ESC}[0m\u0007`];

describe('CSV formula injection', () => {
  it('neutralises cells that a spreadsheet would take for formulas, and no control character reaches the CSV, over HTTP and from the CLI', async () => {
    for (const provider of hostile) {
      const r = await s.call('POST', '/v1/decisions', { key: s.keys.belastingdienst, body: { provider, recipient: 'fiod', dataCategories: ['fiscal.income'], purpose: 'nsoc.tbml', legalBasis: 'awr-67-43c' } });
      expect([400, 403, 422]).toContain(r.status);
    }
    const http = await (await fetch(`${s.url}/v1/audit/export?format=csv`, { headers: { authorization: `Bearer ${s.keys.auditor}` } })).text();
    const offline = cli(['audit', 'export', '--format', 'csv', '--data', s.dataDir]);
    expect(offline.status).toBe(0);
    for (const csv of [http, offline.stdout]) {
      expect(csv).not.toMatch(/[\u0000-\u0008\u000B\u000C\u000E-\u001F\u007F]/);
      const rows = parse(csv, { columns: true }) as Record<string, string>[];
      const providers = rows.filter((row) => row.kind === 'refusal').map((row) => row.provider);
      for (const cell of providers) expect(cell).not.toMatch(/^[=+\-@\t\r]/);
      expect(providers).toContain("'=1+1");
      expect(providers).toContain(`'=HYPERLINK("http://evil.example","click")`);
    }
  });

  it('neutralises formulas in the matrix as CSV, and HTML in its Markdown', () => {
    const dir = tempTree({
      'policies/p.yaml': [
        'covenant: { id: t, title: T, validFrom: 2025-01-01 }',
        'partners: [{ id: "=cmd|calc" }, { id: b }]',
        'dataCategories: [{ id: fiscal }]',
        'purposes: [{ id: p }]',
        'legalBases: [{ id: lb, citation: "Wet X", providers: ["=cmd|calc"], categories: [fiscal] }]',
      ].join('\n'),
      'rules/r.yaml': 'rules:\n  - { id: "<img/src=x>", citation: "Art. 1", effect: permit, providers: ["=cmd|calc"], recipients: [b] }\n',
    });
    const args = ['--policies', `${dir}/policies`, '--rules', `${dir}/rules`, '--at', '2025-06-01'];
    const csv = cli(['matrix', ...args, '--format', 'csv']);
    expect(csv.status).toBe(0);
    const cells = (parse(csv.stdout) as string[][]).flat();
    expect(cells).toContain("'=cmd|calc");
    for (const cell of cells) expect(cell).not.toMatch(/^[=+\-@\t\r]/);
    const md = cli(['matrix', ...args, '--format', 'md']);
    expect(md.stdout).toContain('&lt;img/src=x&gt;');
    expect(md.stdout).not.toMatch(/<img/);
  });
});

describe('terminal output', () => {
  it('never carries an ESC or BEL from the data to a terminal', () => {
    const data = tempTree({});
    expect(cli(['keys', 'add', '--role', 'auditor', '--name', `ops${ESC}[2J${ESC}]0;pwned\u0007`, '--data', data]).status).toBe(0);
    const listed = cli(['keys', 'list', '--data', data]);
    expect(listed.stdout).toContain('ops');
    expect(listed.stdout).not.toMatch(/[\u001b\u0007]/);
    const dir = tempTree({ 'policies/p.yaml': `covenant: { id: t, title: "x${ESC}]0;pwned\u0007" }\npartners: [{ id: "${ESC}[2J" }]\n` });
    const r = cli(['validate', '--policies', `${dir}/policies`, '--rules', `${dir}/policies`]);
    expect(r.stdout + r.stderr).not.toMatch(/[\u001b\u0007]/);
  });
});
