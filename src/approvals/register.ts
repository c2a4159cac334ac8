// The approvals register: prior approvals granted for a case (an officier van justitie's consent,
// a review committee's advice), each for a period and revocable. Rules and legal bases that
// `require` a kind permit only while one is in force for the request's case. Every grant and
// revocation is first an entry of the decision log (the service writes it before this file), so
// the log holds each before any decision relies on it, and a decision records the approvals it
// relied on, so that replay evaluates with them as they stood.
import { openSharedFile, type SharedState } from '../small-state.js';

export interface Approval {
  /** a ULID, also the id of the log entry that granted it */
  readonly id: string;
  readonly kind: string;
  readonly caseReference: string;
  /** inclusive bounds on the exchange's time, ISO 8601 */
  readonly validFrom: string;
  readonly validUntil: string;
  readonly grantedAt: string;
  /** the id of the key that granted it */
  readonly grantedBy: string;
  readonly note?: string;
  readonly revokedAt?: string;
  readonly revokedBy?: string;
}

/** An approval a decision relied on, as its entry records it. */
export interface Relied {
  readonly id: string;
  readonly kind: string;
}

export interface ApprovalData {
  approvals: Approval[];
}

export class ApprovalRegister {
  /**
   * The approvals of each case reference, with their bounds as instants, rebuilt on every change:
   * decisions look up by case, and parse no dates of their own.
   */
  private byCase = new Map<string, { readonly approval: Approval; readonly from: number; readonly until: number; readonly revoked: number }[]>();

  private constructor(private readonly state: SharedState<ApprovalData>) {
    this.reindex();
  }

  static async open(path: string): Promise<ApprovalRegister> {
    return new ApprovalRegister(await openSharedFile<ApprovalData>(path, { approvals: [] }));
  }

  /** The register in shared state elsewhere (PostgreSQL, for replicas). */
  static on(state: SharedState<ApprovalData>): ApprovalRegister {
    return new ApprovalRegister(state);
  }

  /** Re-reads the register if another process (a replica) changed it. */
  async refresh(): Promise<void> {
    if (await this.state.refresh()) this.reindex();
  }

  /** Newest first, optionally of one case and kind. */
  list(filter: { readonly caseReference?: string; readonly kind?: string } = {}): readonly Approval[] {
    const all = filter.caseReference === undefined ? this.state.data.approvals : (this.byCase.get(filter.caseReference) ?? []).map((x) => x.approval);
    return all.filter((a) => filter.kind === undefined || a.kind === filter.kind).sort((a, b) => (a.id < b.id ? 1 : a.id > b.id ? -1 : 0));
  }

  get(id: string): Approval | undefined {
    return this.state.data.approvals.find((a) => a.id === id);
  }

  /**
   * The approvals in force for `caseReference` for an exchange at `t`, decided at `now`: within
   * their period at t, not revoked by now. In id order, so that decisions record them alike.
   */
  inForce(caseReference: string | undefined, t: number, now: number): Relied[] {
    if (caseReference === undefined) return [];
    const out: Relied[] = [];
    for (const { approval, from, until, revoked } of this.byCase.get(caseReference) ?? []) {
      if (from <= t && t <= until && revoked > now) out.push({ id: approval.id, kind: approval.kind });
    }
    return out.sort((a, b) => (a.id < b.id ? -1 : 1));
  }

  async add(approval: Approval): Promise<void> {
    await this.state.change((d) => void d.approvals.push(approval));
    this.reindex();
  }

  async revoke(id: string, at: string, by: string): Promise<Approval | undefined> {
    let revoked: Approval | undefined;
    await this.state.change((d) => {
      const i = d.approvals.findIndex((a) => a.id === id);
      const a = d.approvals[i];
      if (!a || a.revokedAt !== undefined) return;
      revoked = { ...a, revokedAt: at, revokedBy: by };
      d.approvals[i] = revoked;
    });
    this.reindex();
    return revoked;
  }

  private reindex(): void {
    const byCase: typeof this.byCase = new Map();
    for (const approval of this.state.data.approvals) {
      const entry = { approval, from: Date.parse(approval.validFrom), until: Date.parse(approval.validUntil), revoked: approval.revokedAt === undefined ? Infinity : Date.parse(approval.revokedAt) };
      byCase.set(approval.caseReference, [...(byCase.get(approval.caseReference) ?? []), entry]);
    }
    this.byCase = byCase;
  }
}
