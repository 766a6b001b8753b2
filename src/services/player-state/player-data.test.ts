import { describe, expect, it } from 'vitest'
import { encodeValue } from '../../core/codec.js'
import { checkPlayerData, decodePlayerData, encodePlayerData, NEW_PLAYER, type PlayerData } from './player-data.js'

describe('player data', () => {
  it("refuses a stat named '__proto__' rather than lose it (found by fuzzing)", () => {
    const wire = [1, 'ada', 0, 0, null, [], [['level', 7], ['__proto__', 320]]]
    expect(decodePlayerData(encodeValue(wire))).toBeNull()
    const own: PlayerData = { ...NEW_PLAYER, stats: { level: 7, ['__proto__']: 320 } }
    expect(Object.keys(own.stats)).toEqual(['level', '__proto__'])
    expect(() => checkPlayerData(own)).toThrow(/INVALID_ARGUMENT/)
    // Other names of Object.prototype's members are ordinary stats.
    const odd: PlayerData = { ...NEW_PLAYER, stats: { constructor: 1, toString: 2, hasOwnProperty: 3 } }
    expect(decodePlayerData(encodePlayerData(odd))?.stats).toEqual(odd.stats)
  })
})
