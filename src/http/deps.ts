// Everything the HTTP app needs arrives here, in one place (after Cerbos's engine deps).
import type { SharedState } from '../small-state.js';
import type { SessionDoc } from './console/session.js';
import type { Logger } from 'pino';
import type { Caller, DecisionLog, ListFilter, Page, Role, Verification } from '../audit/types.js';
import type { PolicyArchive } from '../audit/policy-archive.js';
import type { MatrixFormat } from '../engine/matrix.js';
import type { Rejected, Version } from '../loader/policy-source.js';
import type { Metrics } from './metrics.js';
import type { Throttle } from './throttle.js';
import type { DraftReport, ImpactReport, Period, PostedFile, ValidationReport } from '../service/posted-files.js';
import type { Report, ReportNames } from '../service/report.js';
import type { ExportDigest } from '../service/export.js';
import type { ApprovalRegister } from '../approvals/register.js';

export interface AppDeps {
  readonly log: DecisionLog;
  readonly keys: { authenticate(key: string): Caller | undefined; active?(keyId: string): Caller | undefined };
  /** prior approvals; without a register, every approval a rule requires is missing */
  readonly approvals?: ApprovalRegister;
  readonly policy: { current(): Version; lastRejected(): Rejected | undefined; readonly folders: { policies: string; rules: string } };
  readonly archive?: PolicyArchive;
  readonly now: () => number;
  readonly newId: (now: number) => string;
  readonly maxSkewMs: number;
  readonly bodyLimitBytes: number;
  /** the verifier key of the log's checkpoints (C2SP note verifier key) */
  readonly logKey?: string;
  /** false only to measure what receipts cost (`npm run bench:http`) */
  readonly receipts?: boolean;
  /** how long a console session lasts; 8 hours when absent */
  readonly consoleSessionSeconds?: number;
  /** console sessions shared by replicas; absent: this process's memory */
  readonly consoleSessions?: SharedState<SessionDoc>;
  /** when set, GET /metrics needs `Authorization: Bearer` with it */
  readonly metricsKey?: string;
  /** per-key limits on refusals and requests; none when absent */
  readonly throttle?: Throttle;
  readonly metrics: Metrics;
  readonly logger: Logger;
  /** the work of POST /v1/policy/validate and /impact, and of GET /v1/decisions (listing), /v1/audit/verify, /report and /export and /export/digest; the service gives it a thread of its own */
  readonly review: {
    validate(files: readonly PostedFile[], now: number): Promise<ValidationReport>;
    impact(files: readonly PostedFile[], period: Period): Promise<ImpactReport>;
    /** a draft of the rule files: validation, its policy tests and its impact on the log */
    draft?(files: readonly PostedFile[], tests: readonly PostedFile[], now: number, withImpact?: boolean): Promise<DraftReport>;
    /** the log's verification, with the archive of policy versions' where there is one */
    verify(): Promise<Verification>;
    list(filter: ListFilter, page: { before?: number; limit: number }): Promise<Page>;
    report(period: Period, names: ReportNames | undefined, now: number): Promise<Report>;
    exportDigest(period: Period, format: 'ndjson' | 'csv'): Promise<ExportDigest>;
    exportChunks(period: Period, format: 'ndjson' | 'csv'): AsyncGenerator<string>;
    /** the matrix of the archived `policyVersion` (the one serving) as text; `here` when it cannot be worked out apart */
    matrix(policyVersion: string, at: number, format: MatrixFormat, here: () => string): Promise<string>;
  };
}

export type Env = { Variables: { caller: Caller; route: string } };

export const ROUTES: readonly { path: RegExp; methods: readonly string[] }[] = [
  { path: /^\/v1\/decisions$/, methods: ['GET', 'POST'] },
  { path: /^\/v1\/decisions\/[^/]+$/, methods: ['GET'] },
  { path: /^\/v1\/decisions\/[^/]+\/replay$/, methods: ['GET'] },
  { path: /^\/v1\/audit\/(export|export\/digest|report)$/, methods: ['GET'] },
  { path: /^\/v1\/policy\/impact$/, methods: ['POST'] },
  { path: /^\/v1\/policy\/matrix$/, methods: ['GET'] },
  { path: /^\/v1\/simulations$/, methods: ['POST'] },
  { path: /^\/v1\/audit\/(verify|log-key|checkpoint|inclusion|consistency)$/, methods: ['GET'] },
  { path: /^\/v1\/policy$/, methods: ['GET'] },
  { path: /^\/v1\/policy\/validate$/, methods: ['POST'] },
  { path: /^\/v1\/approvals$/, methods: ['GET', 'POST'] },
  { path: /^\/v1\/approvals\/[^/]+\/revoke$/, methods: ['POST'] },
  { path: /^\/(healthz|readyz|openapi\.json|metrics)$/, methods: ['GET'] },
  { path: /^\/console$/, methods: ['GET'] },
  { path: /^\/console\/(sign-in|sign-out)$/, methods: ['POST'] },
  { path: /^\/console\/(what-if|draft)$/, methods: ['GET', 'POST'] },
  { path: /^\/console\/(log|log\/[^/]+|integrity|report|exports|exports\/download|exports\/digest|matrix|covenant|history|console\.css)$/, methods: ['GET'] },
  { path: /^\/docs(\/(init\.js|swagger-ui-bundle\.js|swagger-ui\.css|favicon-32x32\.png))?$/, methods: ['GET'] },
];

export type { Role };
