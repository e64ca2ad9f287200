/**
 * Stands in, in the workflow bundle only, for TypeBox's instantiation counters
 * (`typebox/build/system/memory/metrics.mjs`). TypeBox is loaded once per worker thread and shared
 * by every workflow in it (SHARED_WORKFLOW_MODULES in src/infra/temporal.ts), and the SDK freezes
 * what is shared so that no workflow can change what another sees. TypeBox adds one to a counter
 * here for every schema it builds, which a frozen object refuses. Nothing reads the counters, so
 * each reads 0 and forgets what is added: accessors, which freezing leaves working.
 */
const counter: PropertyDescriptor = { get: () => 0, set: () => undefined, enumerable: true }

export const Metrics = Object.defineProperties({}, {
  assign: counter, create: counter, clone: counter, discard: counter, update: counter,
}) as { assign: number; create: number; clone: number; discard: number; update: number }
