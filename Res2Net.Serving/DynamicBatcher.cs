using System.Collections.Concurrent;
using System.Diagnostics;
using Microsoft.Extensions.Logging;

namespace Res2Net.Serving;

/// <summary>
/// Dynamic batching for one model: requests that arrive within <see cref="ServingOptions.MaxDelay"/> of the oldest
/// waiting one run as one batched forward of up to <see cref="ServingOptions.MaxBatch"/> images, on a thread of the
/// model's own. In front sits a bounded admission count (<see cref="TryAdmit"/>): a request is admitted before its body
/// is read, so a full model answers 503 at once rather than reading and decoding work it cannot run. A request whose
/// deadline passed, or whose client left, is dropped when its turn comes instead of being run.
/// </summary>
/// <remarks>
/// The logits of an image do not depend on its batch: the network runs each image of a batch whole, on one thread
/// (<see cref="Runtime.Networks.CompiledNetwork"/>), so a served image gets the bits a direct call gives it.
/// </remarks>
internal sealed class DynamicBatcher
{
    private readonly ServedModel _model;
    private readonly ILogger _log;
    private readonly BlockingCollection<PendingInference> _queue = new(new ConcurrentQueue<PendingInference>());
    private readonly Thread _thread;
    private readonly int _maxBatch;
    private readonly long _maxDelayTicks;
    private readonly int _capacity;
    private readonly float[] _input;
    private readonly float[] _logits;
    private readonly Prometheus.Histogram.Child _batchSize;
    private readonly Prometheus.Histogram.Child _forwardSeconds;
    private readonly Prometheus.Histogram.Child _queueWait;
    private readonly Prometheus.Counter.Child _dropped;
    private int _waiting;

    public DynamicBatcher(ServedModel model, ServingOptions options, ServingMetrics metrics, ILogger log)
    {
        _model = model;
        _log = log;
        _maxBatch = options.MaxBatch;
        _maxDelayTicks = (long)(options.MaxDelay.TotalSeconds * Stopwatch.Frequency);
        _capacity = options.QueueCapacity;
        _input = new float[(long)_maxBatch * model.Info.InputElements];
        _logits = new float[(long)_maxBatch * model.Info.NumClasses];
        // Read at each scrape: set from the threads that admit and release, the gauge could end on a stale value.
        var depth = metrics.QueueDepth.WithLabels(model.Name);
        metrics.Registry.AddBeforeCollectCallback(() => depth.Set(Waiting));
        _batchSize = metrics.BatchSize.WithLabels(model.Name);
        _forwardSeconds = metrics.ForwardSeconds.WithLabels(model.Name);
        _queueWait = metrics.QueueWaitSeconds.WithLabels(model.Name);
        _dropped = metrics.Dropped.WithLabels(model.Name);
        _thread = new Thread(Run) { IsBackground = true, Name = $"res2net batcher {model.Name}" };
    }

    public ServedModel Model => _model;

    /// <summary>Requests admitted and not yet in a forward (reading, decoding, queued).</summary>
    public int Waiting => Volatile.Read(ref _waiting);

    /// <summary>Requests in the queue itself (read and decoded, not yet taken into a batch).</summary>
    internal int Queued => _queue.Count;

    /// <summary>The capacity given by <see cref="ServingOptions.QueueCapacity"/>.</summary>
    public int Capacity => _capacity;

    public void Start() => _thread.Start();

    /// <summary>
    /// Takes a place in the queue for a request about to be read, or says the model is full. Every admitted request
    /// ends in <see cref="Enqueue"/> or <see cref="Release"/>.
    /// </summary>
    public bool TryAdmit()
    {
        while (true)
        {
            int now = Volatile.Read(ref _waiting);
            if (now >= _capacity) return false;
            if (Interlocked.CompareExchange(ref _waiting, now + 1, now) == now) return true;
        }
    }

    /// <summary>Gives back the place of an admitted request that will not be queued (its input was bad).</summary>
    public void Release() => Interlocked.Decrement(ref _waiting);

    /// <summary>Queues an admitted request for the next batch.</summary>
    /// <exception cref="ServingError">503: the server is stopping.</exception>
    public void Enqueue(PendingInference request)
    {
        try
        {
            _queue.Add(request);
        }
        catch (InvalidOperationException)
        {
            // Adding was completed: the server stops, after Kestrel has finished the requests in flight.
            Release();
            request.ReleaseInput();
            throw ServingError.ShuttingDown();
        }
    }

    /// <summary>
    /// Queues an admitted request and waits for its logits until its deadline: past it, the request is marked abandoned
    /// (the batcher drops it if it has not run yet) and the answer is 504.
    /// </summary>
    /// <exception cref="ServingError">503 while stopping; 504 past the deadline.</exception>
    /// <exception cref="OperationCanceledException">The client went away (<paramref name="aborted"/>).</exception>
    public async Task<float[]> RunAsync(PendingInference request, CancellationToken aborted)
    {
        Enqueue(request);
        long left = request.Deadline - Stopwatch.GetTimestamp();
        try
        {
            return await request.Logits.WaitAsync(TimeSpan.FromSeconds(Math.Max(0, left) / (double)Stopwatch.Frequency), aborted).ConfigureAwait(false);
        }
        catch (TimeoutException)
        {
            request.Abandon();
            throw ServingError.DeadlineExceeded(_model.Name, Stopwatch.GetElapsedTime(request.Arrived, request.Deadline));
        }
        catch (OperationCanceledException)
        {
            request.Abandon();
            throw;
        }
    }

    /// <summary>Takes no more requests, runs those queued, and returns when the batching thread has ended.</summary>
    public void Stop()
    {
        _queue.CompleteAdding();
        if (_thread.IsAlive) _thread.Join();
    }

    /// <summary>
    /// The batching thread: waits for a request, then gathers those already queued and those arriving before the
    /// oldest has waited <see cref="ServingOptions.MaxDelay"/>, up to the max batch, and runs them. A request that does
    /// not fit whole opens the next batch.
    /// </summary>
    private void Run()
    {
        var batch = new List<PendingInference>(_maxBatch);
        PendingInference? carried = null;
        while (true)
        {
            var first = carried;
            carried = null;
            if (first == null && !_queue.TryTake(out first, Timeout.Infinite)) return;   // completed and empty: stopped
            if (Drop(first)) continue;
            batch.Clear();
            batch.Add(first);
            int images = first.Count;
            long flushAt = first.Arrived + _maxDelayTicks;
            while (images < _maxBatch)
            {
                long left = flushAt - Stopwatch.GetTimestamp();
                int waitMs = left <= 0 ? 0 : (int)Math.Ceiling(left * 1000.0 / Stopwatch.Frequency);
                if (!_queue.TryTake(out var next, waitMs)) break;
                if (Drop(next)) continue;
                if (images + next.Count > _maxBatch)
                {
                    carried = next;
                    break;
                }
                batch.Add(next);
                images += next.Count;
            }
            Forward(batch, images);
        }
    }

    /// <summary>Fails and forgets a request that is past its deadline or abandoned.</summary>
    private bool Drop(PendingInference request)
    {
        if (!request.IsExpired(Stopwatch.GetTimestamp())) return false;
        Release();
        _dropped.Inc();
        request.Fail(ServingError.DeadlineExceeded(_model.Name, Stopwatch.GetElapsedTime(request.Arrived, request.Deadline)));
        return true;
    }

    private void Forward(List<PendingInference> batch, int images)
    {
        int elements = _model.Info.InputElements, classes = _model.Info.NumClasses;
        long start = Stopwatch.GetTimestamp();
        int offset = 0;
        foreach (var request in batch)
        {
            request.Input(elements).CopyTo(_input.AsSpan(offset * elements));
            request.ReleaseInput();
            offset += request.Count;
            Release();
            _queueWait.Observe(Stopwatch.GetElapsedTime(request.Arrived, start).TotalSeconds);
        }
        try
        {
            _model.Forward(_input.AsSpan(0, images * elements), images, _logits.AsSpan(0, images * classes));
        }
        catch (Exception e)
        {
            // A bug (the input was checked), not the client's fault: 500 for this batch, and the next one runs.
            ServingLog.ForwardFailed(_log, e, _model.Name, images);
            foreach (var request in batch) request.Fail(new ServingError(500, $"internal error: the forward of {_model.Name} failed ({e.GetType().Name}); see the server log"));
            return;
        }
        var elapsed = Stopwatch.GetElapsedTime(start);
        _batchSize.Observe(images);
        _forwardSeconds.Observe(elapsed.TotalSeconds);
        ServingLog.BatchRan(_log, _model.Name, images, batch.Count, elapsed.TotalMilliseconds);
        offset = 0;
        foreach (var request in batch)
        {
            request.Complete(_logits.AsSpan(offset * classes, request.Count * classes).ToArray());
            offset += request.Count;
        }
    }
}
