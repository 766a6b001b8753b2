import type { Scenario } from '../scenario.js'
import { VON_SCENARIOS } from './von.js'
import { dhtChurnScenario } from './dht-churn.js'
import { dhtLookupScenario } from './dht-lookup.js'

/** Every scenario `npm run sim -- --scenario NAME` knows, by name. */
export const SCENARIOS: readonly Scenario[] = [...VON_SCENARIOS, dhtLookupScenario, dhtChurnScenario]

export function findScenario(name: string): Scenario | undefined {
  return SCENARIOS.find((s) => s.name === name)
}
