// How many examples a property test draws. Under mutation testing (`npm run test:mutation` sets
// BANJIAN_MUTATION_RUNS) every property runs once per mutant that it covers, so the count is capped
// there: a mutant that survives a capped run might have been killed by a full one, so the score
// measured that way is a lower bound, never flattering.
const cap = Number(process.env.BANJIAN_MUTATION_RUNS) || Number.POSITIVE_INFINITY

/** `{ numRuns: n }`, or the mutation run's cap when that is lower. */
export const runs = (n: number): { numRuns: number } => ({ numRuns: Math.min(n, cap) })
