// The raw baseline for bench/intake.ts and bench/lifecycle.ts: a workflow that does nothing, so
// what is measured is Temporal's own cost of starting a workflow and seeing it complete.
export async function bareWorkflow(): Promise<void> {}
