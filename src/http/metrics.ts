// Prometheus metrics, one registry per app: no module-level state.
import { Counter, Histogram, Registry, collectDefaultMetrics } from 'prom-client';

export interface Metrics {
  readonly registry: Registry;
  readonly decisions: Counter<'kind' | 'outcome'>;
  readonly refusals: Counter<'status'>;
  readonly unauthenticated: Counter;
  readonly reloads: Counter<'result'>;
  readonly decisionSeconds: Histogram<'kind'>;
  readonly appendSeconds: Histogram;
}

export function createMetrics(options: { defaults?: boolean } = {}): Metrics {
  const registry = new Registry();
  if (options.defaults) collectDefaultMetrics({ register: registry });
  const buckets = [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 1];
  return {
    registry,
    decisions: new Counter({ name: 'covenant_decisions_total', help: 'decisions and simulations by outcome', labelNames: ['kind', 'outcome'], registers: [registry] }),
    refusals: new Counter({ name: 'covenant_refusals_total', help: 'refused requests of authenticated callers', labelNames: ['status'], registers: [registry] }),
    unauthenticated: new Counter({ name: 'covenant_unauthenticated_total', help: 'requests without a valid key', registers: [registry] }),
    reloads: new Counter({ name: 'covenant_policy_reloads_total', help: 'policy reloads by result', labelNames: ['result'], registers: [registry] }),
    decisionSeconds: new Histogram({ name: 'covenant_decision_seconds', help: 'time to decide and record', labelNames: ['kind'], buckets, registers: [registry] }),
    appendSeconds: new Histogram({ name: 'covenant_log_append_seconds', help: 'time of one durable write to the decision log (a group commit of one or more entries)', buckets, registers: [registry] }),
  };
}
