package e6data

import (
	"context"

	"google.golang.org/grpc"

	"github.com/e6go/e6data/internal/enginepb"
	"github.com/e6go/e6data/internal/rpc"
	"github.com/e6go/e6data/internal/wire"
)

// bind returns ctx prepared for the query's batch fetches (rpc.Client.Bind):
// the rows bind their context once, the prefetch goroutine its own.
func (r *rows) bind(ctx context.Context) context.Context {
	return r.cn.ctr.rpc.Bind(ctx, rpc.Call{Strategy: r.q.strategy, PlannerIP: r.q.engineIP})
}

// fetch replaces the current batch with the next one. An "Access denied"
// (the session expired) or a 503 is repaired (re-authentication on the
// query's own stack, resume) and the same fetch sent again, under o's
// budget: the gateway refused before the engine moved its cursor, so no row
// is lost or repeated. Any other failure ends the query.
//
// Once the rows are with the application (r.ctx is set) and PrefetchDepth
// is above 0, the batches after the current one are fetched in the
// background (see prefetcher) and fetch takes them from there, in order.
func (r *rows) fetch(ctx context.Context, o *op) error {
	r.pos = 0
	clear(r.strs)
	switch {
	case r.hasAhead:
		r.chunk, r.ahead = r.ahead, r.chunk
		r.hasAhead = false
		if r.chunk.Rows <= 0 {
			r.done = true
		}
	case r.pf != nil:
		if err := r.receive(ctx, o); err != nil {
			return err
		}
	default:
		if err := r.fetchCurrent(ctx, o, nil); err != nil {
			return err
		}
	}
	if r.depth > 0 && r.pf == nil && r.ctx != nil && !r.done && !r.closed {
		spare := r.ahead
		r.ahead = wire.Chunk{}
		r.startPrefetch(spare)
	}
	return nil
}

// readAhead fetches the batch after the current one into r.ahead.
func (r *rows) readAhead(ctx context.Context, o *op) error {
	if _, err := r.fetchInto(ctx, o, &r.ahead, nil); err != nil {
		return err
	}
	r.hasAhead = true
	return nil
}

// fetchInto asks for the next batch and decodes it into dst; end reports
// the end of the results (dst.Rows is then 0). first, when not nil, is a
// refusal of the same fetch already made (see resend).
func (r *rows) fetchInto(ctx context.Context, o *op, dst *wire.Chunk, first error) (end bool, err error) {
	q := r.q
	err = r.cn.resend(ctx, o, q, stageResult, first, func(ctx context.Context) error {
		var err error
		end, err = r.fetchBatch(ctx, dst, q.sid)
		return err
	})
	if err == nil && !end {
		r.adopt(dst)
	}
	return end, err
}

// adopt takes what the rows learn from a batch: the DECIMAL128 scales.
func (r *rows) adopt(c *wire.Chunk) {
	for i := range min(len(r.cols), len(c.Vectors)) {
		if v := &c.Vectors[i]; v.Type == wire.Decimal128 && !r.cols[i].haveScale {
			r.cols[i].scale, r.cols[i].haveScale = v.Scale, true
		}
	}
}

// fetchBatch makes one getNextResultBatch call in session sid and decodes
// its answer into dst. It touches neither the connection nor the columns'
// mutable state, so the prefetch goroutine may run it.
func (r *rows) fetchBatch(ctx context.Context, dst *wire.Chunk, sid string) (end bool, err error) {
	q := r.q
	var resp enginepb.GetNextResultBatchResponse
	// The batch is received into dst's buffer (recycle decides whether it
	// may be reused) with one copy: see wire.BatchCodec.
	codec := &wire.BatchCodec{Buf: dst.Recv}
	err = r.cn.ctr.rpc.Invoke(ctx, rpc.Call{Method: enginepb.QueryEngineService_GetNextResultBatch_FullMethodName, Strategy: q.strategy, PlannerIP: q.engineIP, QueryID: q.id},
		&enginepb.GetNextResultBatchRequest{EngineIP: q.engineIP, SessionId: sid, QueryId: q.id}, &resp,
		grpc.ForceCodecV2(codec))
	dst.Recv = codec.Buf
	if err != nil {
		return false, err
	}
	b := resp.GetResultBatch()
	if wire.IsEnd(b) {
		dst.Rows = 0
		return true, nil
	}
	// Strings laid out as Arrow's: e6arrow takes them as they are, and
	// the rows copy a block of them in one go (see copyStrings), with no
	// per-value slice header for the garbage collector to scan.
	if err := wire.DecodeChunkCompact(b, dst); err != nil {
		return false, errFinal{&Error{Op: "fetch", sentinel: ErrProtocol, QueryID: q.id, cause: err, Message: err.Error()}}
	}
	q.tel.batch(ctx, int64(max(dst.Rows, 0)), int64(len(b)))
	if dst.Rows <= 0 {
		dst.Rows = 0
		return true, nil
	}
	if msg, ok := conform(r.cols, dst); !ok {
		return false, errFinal{&Error{Op: "fetch", sentinel: ErrProtocol, QueryID: q.id, Message: msg}}
	}
	return false, nil
}

// fetchOp is the op of one fetch the application asked for (Next): its own
// budget.
func (r *rows) fetchOp() *op {
	o := r.cn.newOp("fetch", r.read, r.q.tel)
	o.queryID = r.q.id
	return o
}

// drainWith reads and discards the remaining rows under o and returns how
// many there were in all.
func (r *rows) drainWith(ctx context.Context, o *op) (int64, error) {
	for {
		if r.pos < int(r.chunk.Rows) {
			n := int(r.chunk.Rows) - r.pos
			r.pos += n
			r.delivered += int64(n)
		}
		if r.done {
			return r.delivered, nil
		}
		if err := r.fetch(ctx, o); err != nil {
			return r.delivered, err
		}
	}
}

// prefetcher fetches the batches after the current one on a goroutine owned
// by the rows while the application scans, at most depth batches ahead.
//
// The goroutine only calls getNextResultBatch and decodes; everything that
// touches the connection (re-authentication) or the column state stays on
// the application's side, under database/sql's lock. Batches, the end and
// the first error reach the application strictly in order through out; the
// goroutine stops after the end or an error, or when its context (a child
// of the query's) ends. Chunks circulate between the two sides through free
// (depth+1 of them in all: the one being scanned and up to depth ahead), so
// their vectors and null sets are reused from batch to batch.
type prefetcher struct {
	out    chan fetched    // batches in order, at most depth buffered
	free   chan wire.Chunk // chunks the application has finished with
	made   int             // chunks in circulation (goroutine only)
	total  int             // depth + 1
	stop   context.CancelFunc
	exited chan struct{} // closed when the goroutine returns
}

// fetched is one result of the prefetch goroutine: a batch, the end of the
// results (end, chunk.Rows == 0) or the failure that ends the stream.
type fetched struct {
	chunk wire.Chunk
	end   bool
	err   error
}

// startPrefetch starts the goroutine once the rows are with the
// application. spare is a chunk the application no longer needs.
func (r *rows) startPrefetch(spare wire.Chunk) {
	depth := r.depth
	ctx, stop := context.WithCancel(r.ctx)
	p := &prefetcher{
		out:    make(chan fetched, depth),
		free:   make(chan wire.Chunk, depth+1),
		made:   2, // the current chunk and spare
		total:  depth + 1,
		stop:   stop,
		exited: make(chan struct{}),
	}
	r.recycle(&spare)
	p.free <- spare
	r.pf = p
	go r.prefetchLoop(r.bind(ctx), p, r.q.sid)
}

func (r *rows) prefetchLoop(ctx context.Context, p *prefetcher, sid string) {
	defer close(p.exited)
	for {
		var c wire.Chunk
		select {
		case c = <-p.free:
		default:
			if p.made < p.total {
				p.made++
			} else {
				select {
				case c = <-p.free:
				case <-ctx.Done():
					return
				}
			}
		}
		end, err := r.fetchBatch(ctx, &c, sid)
		select {
		case p.out <- fetched{chunk: c, end: end, err: err}:
		case <-ctx.Done():
			return
		}
		if end || err != nil {
			return
		}
	}
}

// stopPrefetch stops the goroutine and waits for it to return.
func (r *rows) stopPrefetch() {
	if p := r.pf; p != nil {
		p.stop()
		<-p.exited
		r.pf = nil
	}
}

// receive makes the next prefetched batch the current one. A failure is
// returned exactly as a synchronous fetch would return it; a refusal before
// routing (Access denied, 503) is repaired here (re-authentication belongs
// to the connection) and the same batch asked for again under o's budget,
// after which prefetching resumes.
func (r *rows) receive(ctx context.Context, o *op) error {
	p := r.pf
	var f fetched
	got := false
	select {
	case f, got = <-p.out:
	case <-p.exited:
		select {
		case f, got = <-p.out:
		default:
		}
	}
	if !got {
		// The goroutine stopped because the query's context ended: a
		// fetch here reports that the way it always has.
		r.stopPrefetch()
		return r.fetchCurrent(ctx, o, nil)
	}
	spare := r.chunk
	r.recycle(&spare)
	r.chunk = f.chunk
	select {
	case p.free <- spare:
	default: // cannot happen: free holds every chunk in circulation
	}
	if f.err != nil {
		r.stopPrefetch() // it has returned after sending the error
		r.chunk.Rows = 0
		if k := rpc.Classify(f.err); k != rpc.KindAccessDenied && k != rpc.KindClusterUnavailable {
			return f.err
		}
		return r.fetchCurrent(ctx, o, f.err)
	}
	r.adopt(&r.chunk)
	if f.end {
		r.done = true
	}
	return nil
}

// fetchCurrent fetches the next batch on the application's goroutine;
// first, when not nil, is a refusal of that fetch already met.
func (r *rows) fetchCurrent(ctx context.Context, o *op, first error) error {
	r.recycle(&r.chunk)
	end, err := r.fetchInto(ctx, o, &r.chunk, first)
	if end {
		r.done = true
	}
	return err
}
