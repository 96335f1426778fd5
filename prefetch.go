package e6data

import (
	"context"

	"github.com/e6go/e6data/internal/rpc"
	"github.com/e6go/e6data/internal/wire"
)

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
