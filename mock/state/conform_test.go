package state_test

import (
	"testing"

	"github.com/idpmock/idpmock/mock/state"
	"github.com/idpmock/idpmock/mock/state/statetest"
)

// MemoryBackend builds the memory implementations for the conformance suite.
func memoryBackend() statetest.Backend {
	return statetest.Backend{
		Store: func(t *testing.T, c statetest.Config) state.Store[statetest.Rec] {
			opts := []state.Option[statetest.Rec]{state.WithLimit[statetest.Rec](c.Limit), state.WithIndexLimit[statetest.Rec](statetest.Owner, c.OwnerLimit)}
			for _, ix := range statetest.Indexes {
				opts = append(opts, state.WithIndex(ix))
			}
			return state.NewMemory(statetest.Key, opts...)
		},
		Cell:     func(*testing.T) state.Cell[statetest.Clock] { return &state.MemoryCell[statetest.Clock]{} },
		Counters: func(*testing.T) state.Counters { return &state.MemoryCounters{} },
		Log:      func(_ *testing.T, max int) state.Log { return state.NewMemoryLog(max) },
	}
}

func TestMemoryConformance(t *testing.T) { statetest.Run(t, memoryBackend()) }
