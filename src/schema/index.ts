// One Ajv, every schema compiled once at import. The schemas themselves live in /schemas, where
// editors find them too (the example files point at them).
import { Ajv2020, type ErrorObject, type ValidateFunction } from 'ajv/dist/2020.js';
import * as formats from 'ajv-formats';
import requestSchema from '../../schemas/request.schema.json' with { type: 'json' };
import covenantSchema from '../../schemas/covenant.schema.json' with { type: 'json' };
import testSchema from '../../schemas/covenant-test.schema.json' with { type: 'json' };
import decisionSchema from '../../schemas/decision.schema.json' with { type: 'json' };
import apiSchema from '../../schemas/api.schema.json' with { type: 'json' };

// ajv-formats is CommonJS; under NodeNext its default export is typed as the module itself.
const addFormats = formats.default as unknown as (ajv: Ajv2020, list: string[]) => Ajv2020;

// verbose: an error carries the schema it broke, whose `x-message` (ours) says what it wants.
const ajv = new Ajv2020({ allErrors: true, strict: true, allowUnionTypes: true, verbose: true });
ajv.addVocabulary(['x-message']);
addFormats(ajv, ['date-time', 'date']);
ajv.addSchema(requestSchema);
ajv.addSchema(decisionSchema);
ajv.addSchema(apiSchema);

export { ajv };

/** A schema violation, located by path segments so the loader can turn it into line and column. */
export interface SchemaError {
  readonly segments: readonly (string | number)[];
  /** JSON Pointer of the offending value */
  readonly path: string;
  readonly message: string;
  /** a missing or unknown key: point at the key rather than the value */
  readonly at: 'key' | 'value';
}

export type Validator = (data: unknown) => readonly SchemaError[];

/** Compiles on first use, once: a command that never reads a test file never compiles its schema. */
export function compile(schema: object): Validator {
  let validate: ValidateFunction | undefined;
  return (data) => {
    validate ??= ajv.compile(schema);
    return validate(data) ? [] : toSchemaErrors(validate.errors ?? []);
  };
}

export const validateRequestSchema: Validator = compile({ $ref: 'request.schema.json' });
export const validateCovenantFile: Validator = compile(covenantSchema);
export const validateTestFile: Validator = compile(testSchema);
export const validateDecision: Validator = compile({ $ref: 'decision.schema.json' });
export const validateListQuery: Validator = compile({ $ref: 'api.schema.json#/$defs/listQuery' });
export const validateIdParam: Validator = compile({ $ref: 'api.schema.json#/$defs/idParam' });
export const validateValidateBody: Validator = compile({ $ref: 'api.schema.json#/$defs/validateBody' });
export const validateExportQuery: Validator = compile({ $ref: 'api.schema.json#/$defs/exportQuery' });
export const validateReportQuery: Validator = compile({ $ref: 'api.schema.json#/$defs/reportQuery' });
export const validateMatrixQuery: Validator = compile({ $ref: 'api.schema.json#/$defs/matrixQuery' });
export const validateImpactBody: Validator = compile({ $ref: 'api.schema.json#/$defs/impactBody' });
export const validateDecideQuery: Validator = compile({ $ref: 'api.schema.json#/$defs/decideQuery' });
export const validateInclusionQuery: Validator = compile({ $ref: 'api.schema.json#/$defs/inclusionQuery' });
export const validateGrantBody: Validator = compile({ $ref: 'api.schema.json#/$defs/grantBody' });
export const validateApprovalsQuery: Validator = compile({ $ref: 'api.schema.json#/$defs/approvalsQuery' });
export const validateConsoleSignIn: Validator = compile({ $ref: 'api.schema.json#/$defs/consoleSignIn' });
export const validateConsoleWhatIf: Validator = compile({ $ref: 'api.schema.json#/$defs/consoleWhatIf' });
export const validateConsoleDraft: Validator = compile({ $ref: 'api.schema.json#/$defs/consoleDraft' });
export const validateConsoleHistory: Validator = compile({ $ref: 'api.schema.json#/$defs/consoleHistory' });
export const validateConsoleMatrix: Validator = compile({ $ref: 'api.schema.json#/$defs/consoleMatrix' });
export const validateConsoleForm: Validator = compile({ $ref: 'api.schema.json#/$defs/consoleForm' });
export const validateConsistencyQuery: Validator = compile({ $ref: 'api.schema.json#/$defs/consistencyQuery' });

/** The schemas as published, for the OpenAPI document. */
export const schemas = { request: requestSchema, decision: decisionSchema, api: apiSchema } as const;

const decode = (s: string): string => s.replace(/~1/g, '/').replace(/~0/g, '~');
const encode = (s: string | number): string => String(s).replace(/~/g, '~0').replace(/\//g, '~1');

export const pointer = (segments: readonly (string | number)[]): string =>
  segments.length === 0 ? '' : '/' + segments.map(encode).join('/');

function segmentsOf(instancePath: string): (string | number)[] {
  if (instancePath === '') return [];
  return instancePath
    .slice(1)
    .split('/')
    .map((s) => (/^\d+$/.test(s) ? Number(s) : decode(s)));
}

/**
 * Ajv reports one error per failed keyword; for `anyOf`/`oneOf` it also reports every branch. We
 * keep the most useful one per location, and phrase it for a privacy officer, not a programmer.
 */
function toSchemaErrors(errors: readonly ErrorObject[]): SchemaError[] {
  const branchy = new Set(errors.filter((e) => e.keyword === 'anyOf' || e.keyword === 'oneOf').map((e) => e.instancePath));
  const out: SchemaError[] = [];
  const seen = new Set<string>();
  for (const e of errors) {
    // Inside a union, the branch errors are noise: report the union once.
    if (branchy.has(e.instancePath) && e.keyword !== 'anyOf' && e.keyword !== 'oneOf') continue;
    if ([...branchy].some((p) => e.instancePath.startsWith(p + '/')) && e.keyword !== 'required' && e.keyword !== 'additionalProperties') continue;
    const segments = segmentsOf(e.instancePath);
    let at: 'key' | 'value' = 'value';
    let message: string;
    const params = e.params as Record<string, unknown>;
    switch (e.keyword) {
      case 'required':
        // The path names the missing field; its position is the nearest that exists, the object.
        segments.push(String(params.missingProperty));
        message = `missing required field \`${String(params.missingProperty)}\``;
        break;
      case 'additionalProperties':
        segments.push(String(params.additionalProperty));
        at = 'key';
        message = `unknown field \`${String(params.additionalProperty)}\``;
        break;
      case 'enum':
        message = `must be one of ${(params.allowedValues as unknown[]).map((v) => `\`${String(v)}\``).join(', ')}`;
        break;
      case 'const':
        message = `must be \`${String(params.allowedValue)}\``;
        break;
      case 'type':
        message = `must be ${article(String(params.type))}`;
        break;
      case 'pattern':
        message = patternMessage(segments);
        break;
      case 'format':
        message =
          params.format === 'date-time'
            ? 'must be an RFC 3339 date-time with `Z` or an offset, e.g. `2025-03-01T10:00:00Z`'
            : `must be a valid ${String(params.format)}`;
        break;
      case 'uniqueItems':
        message = `must not list the same value twice (items ${String(params.j)} and ${String(params.i)})`;
        break;
      case 'minItems':
        message = Number(params.limit) === 1 ? 'must not be empty' : `must have at least ${String(params.limit)} items`;
        break;
      case 'anyOf':
      case 'oneOf':
        message = unionMessage(segments);
        break;
      default:
        message = e.message ?? 'is invalid';
    }
    // A value whose schema says in words what it wants (`x-message`) is told that instead.
    message = (e.parentSchema as { 'x-message'?: string } | undefined)?.['x-message'] ?? message;
    const path = pointer(segments);
    const key = `${path}\u0000${message}`;
    if (seen.has(key)) continue;
    seen.add(key);
    out.push({ segments, path, message, at });
  }
  return out;
}

function article(type: string): string {
  const names: Record<string, string> = {
    object: 'an object',
    array: 'a list',
    string: 'a string',
    integer: 'a whole number',
    number: 'a number',
    boolean: '`true` or `false`',
    null: '`null`',
  };
  return type
    .split(',')
    .map((t) => names[t] ?? t)
    .join(' or ');
}

function patternMessage(segments: readonly (string | number)[]): string {
  const last = segments[segments.length - 1];
  if (last === 'validFrom' || last === 'validUntil') {
    return 'must be a date (`2025-12-31`) or a date-time (`2025-12-31T23:00:00Z`)';
  }
  return 'must be an id without spaces (and, for categories and purposes, no empty part between dots)';
}

function unionMessage(segments: readonly (string | number)[]): string {
  if (segments.includes('obligations')) {
    return 'must be an obligation: `{type: retention, days: N}`, `{type: pseudonymise}` or `{type: notify, role: ROLE}`';
  }
  if (segments.includes('context')) return 'must be a string, number, `true`, `false` or `null`';
  return 'must be a text, or an object with `nl` and `en` texts';
}
