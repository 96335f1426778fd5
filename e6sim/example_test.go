package e6sim_test

import (
	"context"
	"fmt"
	"log"
	"time"

	"google.golang.org/grpc"
	"google.golang.org/grpc/credentials/insecure"
	"google.golang.org/grpc/metadata"

	"github.com/e6go/e6data/e6sim"
	"github.com/e6go/e6data/internal/enginepb"
)

// Start an in-process simulator, authenticate on the live stack, deploy the
// other stack and watch the old one announce it while it drains.
func Example() {
	ctx := context.Background()
	sim, err := e6sim.Start(ctx, e6sim.Config{}) // free loopback port, blue live
	if err != nil {
		log.Fatal(err)
	}
	defer sim.Close()

	conn, err := grpc.NewClient(sim.Addr(), grpc.WithTransportCredentials(insecure.NewCredentials()))
	if err != nil {
		log.Fatal(err)
	}
	defer conn.Close()
	engine := enginepb.NewQueryEngineServiceClient(conn)
	onBlue := metadata.AppendToOutgoingContext(ctx, "strategy", "blue")

	auth, err := engine.Authenticate(onBlue, &enginepb.AuthenticateRequest{User: "alice", Password: "token"})
	if err != nil {
		log.Fatal(err)
	}

	// Green becomes live; blue drains for a minute.
	if err := sim.Switch(ctx, time.Minute, 0); err != nil {
		log.Fatal(err)
	}
	fmt.Println("live:", sim.Live(), "draining:", sim.Draining())

	// Blue still serves its session, and announces green.
	schemas, err := engine.GetSchemaNamesV2(onBlue, &enginepb.GetSchemaNamesV2Request{SessionId: auth.GetSessionId(), Catalog: "sample"})
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println("new_strategy:", schemas.GetNewStrategy())

	// But it takes no new sessions.
	_, err = engine.Authenticate(onBlue, &enginepb.AuthenticateRequest{User: "alice", Password: "token"})
	fmt.Println(err)
	// Output:
	// live: green draining: blue
	// new_strategy: green
	// rpc error: code = Unknown desc = unexpected HTTP status code received from server: 456 (); malformed header: missing HTTP content-type
}

// Two simulated clusters in one process, on different strategies, sharing
// one database.
func ExampleOpenDB() {
	ctx := context.Background()
	db, err := e6sim.OpenDB(ctx, "")
	if err != nil {
		log.Fatal(err)
	}
	defer db.Close() // after the simulators (deferred calls run last-in first-out)

	east, err := e6sim.Start(ctx, e6sim.Config{DB: db, ClusterName: "east"})
	if err != nil {
		log.Fatal(err)
	}
	defer east.Close()
	west, err := e6sim.Start(ctx, e6sim.Config{DB: db, ClusterName: "west", Strategy: e6sim.Green, Signal: e6sim.SignalGRPC})
	if err != nil {
		log.Fatal(err)
	}
	defer west.Close()

	fmt.Println("east:", east.Live(), "west:", west.Live())
	// Output: east: blue west: green
}
