import type { Scenario } from '../scenario.js'
import { VON_SCENARIOS } from './von.js'

/** Every scenario `npm run sim -- --scenario NAME` knows, by name. */
export const SCENARIOS: readonly Scenario[] = [...VON_SCENARIOS]

export function findScenario(name: string): Scenario | undefined {
  return SCENARIOS.find((s) => s.name === name)
}
