// The decision log's vocabulary. Every answer the service gives to an authenticated caller is an
// entry; entries form a hash chain, so that no entry can be altered, removed, inserted or
// reordered unnoticed.
import type { Decision, DecisionRequest, Origin } from '../domain/types.js';
import type { Approval, Relied } from '../approvals/register.js';

/** `approver`: grants and revokes prior approvals (an officier van justitie's office, a review committee) */
export type Role = 'partner' | 'privacy-officer' | 'auditor' | 'approver';

export interface Caller {
  readonly keyId: string;
  readonly role: Role;
  readonly partner?: string;
  /** who asks within the partner, when the key says: recorded, so that replay evaluates as it was */
  readonly unit?: string;
  readonly function?: string;
}

export type EntryKind = 'decision' | 'simulation' | 'refusal' | 'recovery' | 'policy' | 'approval';

export const ENTRY_KINDS: readonly EntryKind[] = ['decision', 'simulation', 'refusal', 'recovery', 'policy', 'approval'];

interface Base {
  readonly kind: EntryKind;
  /** the decisionId, simulation id or refusal id: a ULID, so ordered by time */
  readonly id: string;
  readonly at: string;
}

export type EntryDraft =
  | (Base & {
      readonly kind: 'decision' | 'simulation';
      readonly caller: Caller;
      readonly request: DecisionRequest;
      /** for a request with `derivedFrom`: where its data came from, as the log said when it was decided */
      readonly origin?: Origin;
      /** the approvals in force for the request's case that the decision was made with */
      readonly approvals?: readonly Relied[];
      readonly decision: Decision;
      readonly policyVersion: string;
    })
  | (Base & {
      readonly kind: 'refusal';
      readonly caller: Caller;
      readonly route: string;
      readonly status: number;
      readonly errors: readonly { path: string; message: string }[];
      readonly request?: unknown;
    })
  | (Base & { readonly kind: 'recovery'; readonly detail: Record<string, unknown> })
  /** a policy version going live: its files and their hashes, and what made it live */
  | (Base & { readonly kind: 'policy'; readonly policyVersion: string; readonly files: readonly { readonly name: string; readonly sha256: string }[]; readonly cause: 'start' | 'reload' })
  /** a prior approval granted or revoked: the approval as it stands after the act */
  | (Base & { readonly kind: 'approval'; readonly caller: Caller; readonly action: 'grant' | 'revoke'; readonly approval: Approval });

export type LogEntry = EntryDraft & { readonly seq: number; readonly prevHash: string; readonly hash: string };

export interface ListFilter {
  readonly kinds: readonly EntryKind[];
  readonly provider?: string;
  readonly recipient?: string;
  readonly purpose?: string;
  /** a category the request names, or one under it */
  readonly category?: string;
  readonly legalBasis?: string;
  /** a rule that decided one of the categories */
  readonly rule?: string;
  readonly caseReference?: string;
  /** the id of the key that asked (or granted) */
  readonly callerKey?: string;
  readonly decision?: 'permit' | 'deny';
  /** inclusive bounds on `at`, in ms */
  readonly from?: number;
  readonly to?: number;
}

export interface Page {
  readonly items: readonly LogEntry[];
  /** pass back as `before` for the next (older) page */
  readonly next?: number;
}

export type Problem = 'unreadable' | 'altered' | 'out-of-sequence' | 'broken-link' | 'truncated';

export interface Verification {
  readonly ok: boolean;
  readonly entries: number;
  readonly head?: { readonly seq: number; readonly hash: string };
  /** the prefix removed by retention, summarised: verification starts after it */
  readonly pruned?: { readonly count: number; readonly seq: number; readonly hash: string };
  readonly firstBad?: { readonly seq?: number; readonly file?: string; readonly line?: number; readonly problem: Problem; readonly message: string };
}

/** An entry as appended, with the receipt an answer carries (its JSON text). */
export interface Proven {
  readonly entry: LogEntry;
  readonly receipt: string;
}

/** A signed checkpoint of the log's Merkle tree (C2SP tlog-checkpoint in a signed note). */
export interface SignedCheckpoint {
  readonly size: number;
  /** base64, as in the checkpoint */
  readonly rootHash: string;
  readonly note: string;
}

/** An entry's inclusion proof in a tree size; hashes in base64 (RFC 9162 §2.1). */
export interface InclusionProof {
  readonly seq: number;
  readonly leafHash: string;
  readonly treeSize: number;
  readonly rootHash: string;
  readonly inclusionProof: readonly string[];
  /** the signed checkpoint, when the proof is to the latest one */
  readonly checkpoint?: string;
}

/** What the service needs of a log. One conformance suite runs against every backend. */
export interface DecisionLog {
  /**
   * A new entry id: a ULID greater than every id in the log, also across restarts and clock
   * steps back, so the log can find an entry by id with a binary search.
   */
  newId(now: number): string;
  /**
   * Durably appends (fsync) before it resolves; rejects when the entry could not be recorded.
   * `decisionJson`, when given, is JSON.stringify(draft.decision) in UTF-8, already made for the answer.
   */
  append(draft: EntryDraft, decisionJson?: Uint8Array): Promise<LogEntry>;
  /**
   * As append(), with the entry's receipt: its inclusion proof to the signed checkpoint of the
   * group commit that made it durable. Rejects when the log cannot sign.
   */
  appendProven(draft: EntryDraft, decisionJson?: Uint8Array, tied?: boolean): Promise<Proven>;
  /** the latest signed checkpoint given out */
  latestCheckpoint(): Promise<SignedCheckpoint | undefined>;
  /** entry `seq`'s inclusion proof in the tree of `size` entries (default: the latest checkpoint's) */
  inclusion(seq: number, size?: number): Promise<InclusionProof | undefined>;
  /** the consistency proof from the tree of `from` entries to that of `to` (base64 hashes) */
  consistency(from: number, to: number): Promise<string[] | undefined>;
  get(id: string): Promise<LogEntry | undefined>;
  list(filter: ListFilter, page: { before?: number; limit: number }): Promise<Page>;
  /** entries in order, oldest first, streamed */
  entries(range?: { from?: number; to?: number }): AsyncIterable<LogEntry>;
  verify(): Promise<Verification>;
  /** false once a write failed, until the log has set aside what it left and can append again */
  writable(): boolean;
  /** why the head could not be checkpointed (the manifest not writable), while that lasts */
  checkpointError?(): Error | undefined;
  close(): Promise<void>;
}
