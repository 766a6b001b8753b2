import type { Scenario } from '../scenario.js'

/** Every scenario `npm run sim -- --scenario NAME` knows, by name. */
export const SCENARIOS: readonly Scenario[] = []

export function findScenario(name: string): Scenario | undefined {
  return SCENARIOS.find((s) => s.name === name)
}
