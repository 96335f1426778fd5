// Command poolbound shows that max-connections holds under plain sql.Open:
// six goroutines query at once, the connector keeps at most two sessions.
package main

import (
	"context"
	"database/sql"
	"fmt"
	"sync"

	_ "github.com/e6go/e6data"
	"github.com/e6go/e6data/e6sim"
)

func main() {
	sim, err := e6sim.Start(context.Background(), e6sim.Config{ChunkRows: 100})
	if err != nil {
		panic(err)
	}
	defer sim.Close()
	db, err := sql.Open("e6data", "e6data://demo%40example.com:demo@"+sim.Addr()+"/main?catalog=sample&max-connections=2")
	if err != nil {
		panic(err)
	}
	defer db.Close()
	var wg sync.WaitGroup
	for g := range 6 {
		wg.Go(func() {
			var n int64
			err := db.QueryRow("SELECT count(*) FROM range(200000)").Scan(&n)
			fmt.Printf("goroutine %d: count %d, err %v\n", g, n, err)
		})
	}
	wg.Wait()
	st := sim.Stats()
	fmt.Printf("e6sim sessions: %d (max-connections=2); authentications: %d\n",
		st.Stacks["blue"].Sessions+st.Stacks["green"].Sessions, st.RPCs["QueryEngineService/authenticate"])
}
