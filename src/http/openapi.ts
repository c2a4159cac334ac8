// The OpenAPI 3.1 document, built from the same JSON Schemas that validate requests.
import { schemas } from '../schema/index.js';
import { ENTRY_KINDS } from '../audit/types.js';

const problem = {
  type: 'object',
  required: ['type', 'title', 'status', 'errors'],
  properties: {
    type: { type: 'string' },
    title: { type: 'string' },
    status: { type: 'integer' },
    errors: { type: 'array', items: { type: 'object', required: ['path', 'message'], properties: { path: { type: 'string' }, message: { type: 'string' } } } },
  },
};

const problems = (...codes: number[]) =>
  Object.fromEntries(codes.map((c) => [String(c), { description: DESCRIPTIONS[c] ?? 'error', content: { 'application/problem+json': { schema: { $ref: '#/components/schemas/Problem' } } } }]));

const DESCRIPTIONS: Record<number, string> = {
  400: 'malformed request',
  401: 'no valid API key',
  403: 'the caller may not do this',
  404: 'not found',
  409: 'the request conflicts with what is recorded (e.g. an approval already revoked)',
  413: 'request body too large',
  415: 'the body is not JSON (Content-Type) or is compressed (Content-Encoding)',
  422: 'names an id the covenant does not define, or requestedAt outside the window',
  429: 'this key is over its limit of refusals or requests; see Retry-After',
  503: 'the log cannot record; nothing was decided',
};

const json = (schema: object, description = 'OK') => ({ description, content: { 'application/json': { schema } } });
const entry = { type: 'object', required: ['seq', 'kind', 'id', 'at', 'prevHash', 'hash'], properties: { seq: { type: 'integer' }, kind: { enum: [...ENTRY_KINDS] }, id: { type: 'string' }, at: { type: 'string' }, prevHash: { type: 'string' }, hash: { type: 'string' } } };
const queryParams = (name: 'exportQuery' | 'reportQuery' | 'matrixQuery' | 'listQuery' | 'inclusionQuery' | 'consistencyQuery' | 'decideQuery' | 'approvalsQuery') => {
  const def = schemas.api.$defs[name] as { properties: Record<string, object>; required?: string[] };
  return Object.entries(def.properties).map(([param, schema]) => ({ name: param, in: 'query', required: def.required?.includes(param) ?? false, schema }));
};
const listParams = queryParams('listQuery');

const ids = { type: 'array', items: { type: 'string' } } as const;
/** validate's and the policy route's findings, each with file, line and column where they have them */
const diagnostics = {
  type: 'array',
  items: {
    type: 'object',
    required: ['severity', 'code', 'message'],
    properties: { severity: { enum: ['error', 'warning'] }, code: { type: 'string' }, message: { type: 'string' }, file: { type: 'string' }, line: { type: 'integer' }, column: { type: 'integer' }, path: { type: 'string' } },
  },
} as const;
const name = { oneOf: [{ type: 'string' }, { type: 'object', required: ['nl', 'en'], properties: { nl: { type: 'string' }, en: { type: 'string' } } }] } as const;
const condition = {
  type: 'object',
  required: ['rule', 'effect', 'when'],
  properties: { rule: { type: 'string' }, effect: { enum: ['permit', 'deny'] }, when: { description: 'the `when` clause as written; null when the permit rule has none and requires approvals' }, requires: { ...ids, description: 'the approval kinds the permit rule requires for the case' } },
} as const;
/** One row per permitted (provider, recipient, category); each way a legal basis with the purposes it permits for and what a decision made that way carries. */
const matrixRow = {
  type: 'object',
  required: ['provider', 'recipient', 'category', 'names', 'purposes', 'legalBases', 'rules', 'conditional', 'conditions', 'ways'],
  properties: {
    provider: { type: 'string' },
    recipient: { type: 'string' },
    category: { type: 'string' },
    names: { type: 'object', required: ['provider', 'recipient', 'category'], properties: { provider: name, recipient: name, category: name } },
    purposes: ids,
    legalBases: ids,
    rules: ids,
    conditional: { type: 'boolean', description: 'no way permits whatever the request\'s other facts: a `when` must hold, or a deny rule\'s must not' },
    conditions: { type: 'array', items: condition },
    ways: {
      type: 'array',
      items: {
        type: 'object',
        required: ['legalBasis', 'purposes', 'rules', 'obligations', 'conditional', 'conditions', 'approvals'],
        properties: {
          legalBasis: { type: 'string' },
          purposes: ids,
          rules: ids,
          obligations: { type: 'array', items: { type: 'object' } },
          conditional: { type: 'boolean' },
          conditions: { type: 'array', items: condition },
          approvals: { ...ids, description: 'the approval kinds the legal basis requires for the case' },
        },
      },
    },
  },
} as const;

export function openApiDocument(): object {
  const secured = [{ apiKey: [] }];
  const decide = (summary: string, description: string) => ({
    summary,
    description,
    security: secured,
    parameters: queryParams('decideQuery'),
    requestBody: { required: true, content: { 'application/json': { schema: { $ref: '#/components/schemas/DecisionRequest' } } } },
    responses: { '200': json({ $ref: '#/components/schemas/Decision' }, 'the decision, recorded before it was sent, with its receipt'), ...problems(400, 401, 403, 413, 415, 422, 429, 503) },
  });
  return {
    openapi: '3.1.0',
    info: { title: 'covenant', version: '1.0.0', description: 'Decides whether the data-sharing covenant allows a proposed exchange, and records every decision.' },
    servers: [{ url: '/' }],
    components: {
      securitySchemes: { apiKey: { type: 'http', scheme: 'bearer', description: 'an API key from `covenant keys add`' } },
      schemas: {
        ...embed('DecisionRequest', schemas.request),
        ...embed('Decision', schemas.decision),
        Problem: problem,
        LogEntry: entry,
        MatrixRow: matrixRow,
        ValidateBody: schemas.api.$defs.validateBody,
        GrantBody: schemas.api.$defs.grantBody,
        Approval: {
          type: 'object',
          required: ['id', 'kind', 'caseReference', 'validFrom', 'validUntil', 'grantedAt', 'grantedBy'],
          properties: {
            id: { type: 'string', description: 'a ULID, also the id of the log entry that granted it' },
            kind: { type: 'string' },
            caseReference: { type: 'string' },
            validFrom: { type: 'string', format: 'date-time' },
            validUntil: { type: 'string', format: 'date-time' },
            grantedAt: { type: 'string', format: 'date-time' },
            grantedBy: { type: 'string', description: 'the id of the key that granted it' },
            note: { type: 'string' },
            revokedAt: { type: 'string', format: 'date-time' },
            revokedBy: { type: 'string' },
          },
        },
        ImpactBody: JSON.parse(JSON.stringify(schemas.api.$defs.impactBody).replace('"#/$defs/validateBody/properties/files"', '"#/components/schemas/ValidateBody/properties/files"')) as object,
      },
    },
    paths: {
      '/v1/decisions': {
        post: { operationId: 'decide', ...decide('decide a proposed exchange (role partner, party to it)', 'requestedAt, if given, within the allowed window of the server clock') },
        get: {
          operationId: 'listDecisions',
          summary: 'the log, newest first (role auditor)',
          security: secured,
          parameters: listParams,
          responses: { '200': json({ type: 'object', required: ['items'], properties: { items: { type: 'array', items: { $ref: '#/components/schemas/LogEntry' } }, nextCursor: { type: 'string' } } }), ...problems(400, 401, 403) },
        },
      },
      '/v1/decisions/{id}': {
        get: {
          operationId: 'getDecision',
          summary: 'one recorded entry, with request, caller and policy version (role auditor)',
          security: secured,
          parameters: [{ name: 'id', in: 'path', required: true, schema: (schemas.api.$defs.idParam as { properties: { id: object } }).properties.id }],
          responses: { '200': json({ $ref: '#/components/schemas/LogEntry' }), ...problems(400, 401, 403, 404) },
        },
      },
      '/v1/simulations': { post: { operationId: 'simulate', ...decide('evaluate at any time, recorded as a simulation (roles privacy-officer, auditor)', 'never recorded as a decision') } },
      '/v1/audit/log-key': {
        get: {
          operationId: 'logKey',
          summary: 'the verifier key of the log\'s checkpoints (C2SP signed-note verifier key), as text; no API key needed',
          security: [],
          responses: { '200': { description: 'the verifier key, one line', content: { 'text/plain': { schema: { type: 'string' } } } }, ...problems(404) },
        },
      },
      '/v1/audit/checkpoint': {
        get: {
          operationId: 'checkpoint',
          summary: 'the latest signed checkpoint (C2SP tlog-checkpoint as a C2SP signed note), as text (any role)',
          security: secured,
          responses: { '200': { description: 'the signed note', content: { 'text/plain': { schema: { type: 'string' } } } }, ...problems(401, 404) },
        },
      },
      '/v1/audit/inclusion': {
        get: {
          operationId: 'inclusionProof',
          summary: 'the inclusion proof of an entry the caller may see (a partner: its own requests and exchanges it is a party to), in the latest checkpoint or a given tree size',
          security: secured,
          parameters: queryParams('inclusionQuery'),
          responses: { '200': json({ $ref: '#/components/schemas/Decision_receipt' }), ...problems(400, 401, 404) },
        },
      },
      '/v1/audit/consistency': {
        get: {
          operationId: 'consistencyProof',
          summary: 'the consistency proof (RFC 9162 section 2.1.4) between two tree sizes (any role); without `to`, to the latest checkpoint, which comes with it',
          security: secured,
          parameters: queryParams('consistencyQuery'),
          responses: {
            '200': json({ type: 'object', required: ['from', 'to', 'proof'], properties: { from: { type: 'integer' }, to: { type: 'integer' }, proof: { type: 'array', items: { type: 'string' } }, checkpoint: { type: 'string' } } }),
            ...problems(400, 401, 404),
          },
        },
      },
      '/v1/audit/verify': {
        get: {
          operationId: 'verifyLog',
          summary: 'check that the log is complete and unaltered (role auditor)',
          security: secured,
          responses: { '200': json({ type: 'object', required: ['ok', 'entries'], properties: { ok: { type: 'boolean' }, entries: { type: 'integer' }, head: { type: 'object' }, firstBad: { type: 'object' } } }), ...problems(401, 403) },
        },
      },
      '/v1/policy': {
        get: {
          operationId: 'getPolicy',
          summary: 'the loaded version: policyVersion, files, counts, load errors (roles privacy-officer, auditor)',
          security: secured,
          responses: { '200': json({ type: 'object', required: ['policyVersion', 'files', 'counts', 'errors'], properties: { policyVersion: { type: 'string' }, files: { type: 'array', items: { type: 'string' } }, counts: { type: 'object' }, errors: diagnostics, warnings: diagnostics } }), ...problems(401, 403) },
        },
      },
      '/v1/policy/validate': {
        post: {
          operationId: 'validatePolicy',
          summary: 'validate posted rule files without loading them (role privacy-officer)',
          security: secured,
          requestBody: { required: true, content: { 'application/json': { schema: { $ref: '#/components/schemas/ValidateBody' } } } },
          responses: { '200': json({ type: 'object', required: ['valid', 'diagnostics'], properties: { valid: { type: 'boolean' }, policyVersion: { type: 'string' }, diagnostics } }), ...problems(400, 401, 403, 413) },
        },
      },
      '/v1/approvals': {
        get: {
          operationId: 'listApprovals',
          summary: 'the prior approvals registered, newest first, optionally of one case and kind (roles approver, privacy-officer, auditor)',
          security: secured,
          parameters: queryParams('approvalsQuery'),
          responses: { '200': json({ type: 'object', required: ['items'], properties: { items: { type: 'array', items: { $ref: '#/components/schemas/Approval' } } } }), ...problems(400, 401, 403) },
        },
        post: {
          operationId: 'grantApproval',
          summary: 'grant a prior approval of a kind the covenant defines, for a case and a period; recorded in the log before it counts (role approver)',
          security: secured,
          requestBody: { required: true, content: { 'application/json': { schema: { $ref: '#/components/schemas/GrantBody' } } } },
          responses: { '201': json({ $ref: '#/components/schemas/Approval' }, 'granted'), ...problems(400, 401, 403, 413, 415, 422, 503) },
        },
      },
      '/v1/approvals/{id}/revoke': {
        post: {
          operationId: 'revokeApproval',
          summary: 'revoke a prior approval: decisions made from now on no longer rely on it; recorded in the log (role approver)',
          security: secured,
          parameters: [{ name: 'id', in: 'path', required: true, schema: (schemas.api.$defs.idParam as { properties: { id: object } }).properties.id }],
          responses: { '200': json({ $ref: '#/components/schemas/Approval' }, 'revoked'), ...problems(400, 401, 403, 404, 409, 503) },
        },
      },
      '/v1/audit/export': {
        get: {
          operationId: 'exportLog',
          summary: 'log entries of every kind in the period, oldest first, streamed (roles auditor, privacy-officer)',
          security: secured,
          parameters: queryParams('exportQuery'),
          responses: {
            '200': { description: 'NDJSON lines as stored, or CSV', content: { 'application/x-ndjson': { schema: { type: 'string' } }, 'text/csv': { schema: { type: 'string' } } } },
            ...problems(400, 401, 403),
          },
        },
      },
      '/v1/audit/export/digest': {
        get: {
          operationId: 'exportDigest',
          summary: 'the digest that ties an export of the same period and format to the hash chain',
          security: secured,
          parameters: queryParams('exportQuery'),
          responses: { '200': json({ type: 'object', required: ['count', 'sha256'], properties: { count: { type: 'integer' }, firstSeq: { type: ['integer', 'null'] }, lastSeq: { type: ['integer', 'null'] }, firstPrevHash: { type: ['string', 'null'] }, lastHash: { type: ['string', 'null'] }, sha256: { type: 'string' } } }), ...problems(400, 401, 403) },
        },
      },
      '/v1/audit/report': {
        get: {
          operationId: 'report',
          summary: 'the privacy-review report for the period, as JSON or one HTML page (roles auditor, privacy-officer)',
          security: secured,
          parameters: queryParams('reportQuery'),
          responses: {
            '200': {
              description: 'the report',
              content: {
                'application/json': { schema: { type: 'object', required: ['from', 'to', 'decisions', 'refusals', 'simulations', 'byPair', 'denialReasons', 'policyVersions'], properties: {
                        from: { type: ['string', 'null'], format: 'date-time' },
                        to: { type: ['string', 'null'], format: 'date-time' },
                        decisions: { type: 'object', properties: { permit: { type: 'integer' }, deny: { type: 'integer' } } },
                        refusals: { type: 'integer' },
                        simulations: { type: 'integer' },
                        byPair: { type: 'array', items: { type: 'object', required: ['provider', 'recipient'], properties: { provider: { type: 'string' }, recipient: { type: 'string' }, permit: { type: 'integer' }, deny: { type: 'integer' } } } },
                        denialReasons: { type: 'array', items: { type: 'object', required: ['code', 'count'], properties: { code: { type: 'string' }, count: { type: 'integer' } } } },
                        policyVersions: { type: 'array', items: { type: 'object', required: ['policyVersion'], properties: { policyVersion: { type: 'string' }, firstSeen: { type: 'string' }, lastSeen: { type: 'string' }, decisions: { type: 'integer' }, wentLive: { type: 'string' } } } },
                      } } },
                'text/html': { schema: { type: 'string' } },
              },
            },
            ...problems(400, 401, 403),
          },
        },
      },
      '/v1/decisions/{id}/replay': {
        get: {
          operationId: 'replay',
          summary: 'the recorded request evaluated again under its own policy version and the current one (roles auditor, privacy-officer)',
          security: secured,
          parameters: [{ name: 'id', in: 'path', required: true, schema: (schemas.api.$defs.idParam as { properties: { id: object } }).properties.id }],
          responses: { '200': json({ type: 'object', required: ['decisionId', 'recorded', 'replayed', 'reproduced', 'current', 'changed'], properties: { decisionId: { type: 'string' }, recorded: { $ref: '#/components/schemas/Decision' }, replayed: { type: ['object', 'null'] }, reproduced: { type: 'boolean' }, current: { type: ['object', 'null'] }, changed: { type: 'boolean' } } }), ...problems(400, 401, 403, 404) },
        },
      },
      '/v1/policy/impact': {
        post: {
          operationId: 'impact',
          summary: 'the logged decisions that posted rule files would flip (roles auditor, privacy-officer)',
          security: secured,
          requestBody: { required: true, content: { 'application/json': { schema: { $ref: '#/components/schemas/ImpactBody' } } } },
          responses: { '200': json({ type: 'object', required: ['policyVersion', 'evaluated', 'flips'], properties: { policyVersion: { type: 'string' }, evaluated: { type: 'integer' }, flips: { type: 'array', items: { type: 'object', required: ['decisionId', 'recorded', 'now', 'rules'], properties: { decisionId: { type: 'string' }, recorded: { enum: ['permit', 'deny'] }, now: { enum: ['permit', 'deny'] }, rules: { type: 'array', items: { type: 'string' } } } } }, byRule: { type: 'array', items: { type: 'object', required: ['rule', 'flips'], properties: { rule: { type: 'string' }, flips: { type: 'integer' }, toPermit: { type: 'integer' }, toDeny: { type: 'integer' } } } } } }), ...problems(400, 401, 403, 413, 422) },
        },
      },
      '/v1/policy/matrix': {
        get: {
          operationId: 'matrix',
          summary: 'who may share which category with whom at a date (roles auditor, privacy-officer)',
          security: secured,
          parameters: queryParams('matrixQuery'),
          responses: {
            '200': {
              description: 'the matrix',
              content: {
                'application/json': { schema: { type: 'object', required: ['at', 'rows'], properties: { at: { type: 'string' }, policyVersion: { type: 'string' }, rows: { type: 'array', items: { $ref: '#/components/schemas/MatrixRow' } } } } },
                'text/markdown': { schema: { type: 'string' } },
                'text/csv': { schema: { type: 'string' } },
                'text/html': { schema: { type: 'string' } },
              },
            },
            ...problems(400, 401, 403),
          },
        },
      },
      '/healthz': { get: { operationId: 'healthz', security: [], summary: 'liveness', responses: { '200': json({ type: 'object' }) } } },
      '/readyz': { get: { operationId: 'readyz', security: [], summary: 'ready while a valid covenant is loaded and the log is writable', responses: { '200': json({ type: 'object' }), '503': json({ type: 'object' }, 'not ready') } } },
      '/openapi.json': { get: { operationId: 'openapi', security: [], summary: 'this document', responses: { '200': json({ type: 'object' }) } } },
      '/docs': { get: { operationId: 'docs', security: [], summary: 'this document as interactive documentation (Swagger UI)', responses: { '200': { description: 'an HTML page', content: { 'text/html': { schema: { type: 'string' } } } } } } },
      '/metrics': {
        get: {
          operationId: 'metrics',
          summary: 'Prometheus metrics; open, unless the service has a metrics key (COVENANT_METRICS_KEY): then `Authorization: Bearer` with that key, not an API key',
          security: [],
          responses: { '200': { description: 'text exposition format', content: { 'text/plain': { schema: { type: 'string' } } } }, ...problems(401) },
        },
      },
    },
  };
}

/**
 * Embeds a published schema as a component: its `$defs` become components of their own and its
 * local references are rewritten, since in OpenAPI `#/...` means the root of the whole document.
 */
function embed(name: string, schema: object): Record<string, object> {
  const { $id: _id, $schema: _s, $defs, ...rest } = schema as Record<string, unknown>;
  const rewrite = (o: unknown): object => JSON.parse(JSON.stringify(o).replace(/"#\/\$defs\/([^"]+)"/g, `"#/components/schemas/${name}_$1"`)) as object;
  const defs = Object.entries(($defs ?? {}) as Record<string, unknown>).map(([k, v]) => [`${name}_${k}`, rewrite(v)]);
  return { [name]: rewrite(rest), ...Object.fromEntries(defs) };
}
