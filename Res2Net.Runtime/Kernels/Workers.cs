namespace Res2Net.Runtime.Kernels;

/// <summary>
/// The threads a forward pass runs on: the caller plus <c>MaxThreads − 1</c> dedicated workers, started
/// once and parked between layers. A layer splits its work statically into one part per thread, so a
/// forward pass allocates nothing and no layer waits on a thread-pool queue.
/// </summary>
public static unsafe class Workers
{
    private static int s_busy;
    private static Worker[] s_workers = Array.Empty<Worker>();
    private static int s_maxThreads = Math.Max(1, Environment.ProcessorCount);
    private static Exception? s_failure;

    /// <summary>Threads per layer, default the processor count. Set it before the first forward to pin a count.</summary>
    public static int MaxThreads
    {
        get => s_maxThreads;
        set
        {
            if (value < 1) throw new ArgumentOutOfRangeException(nameof(value), value, "at least one thread");
            s_maxThreads = value;
        }
    }

    /// <summary>
    /// Runs <paramref name="body"/>(state, part, parts) for parts 0..parts−1, part 0 on the calling thread,
    /// and returns when all are done. Two forwards on different networks at once do not share the workers:
    /// the second runs its parts inline, and so does a <see cref="Run"/> nested in a part (one image per thread
    /// already keeps every core busy).
    /// </summary>
    public static void Run(int parts, delegate*<void*, int, int, void> body, void* state)
    {
        parts = Math.Min(parts, s_maxThreads);
        // Not a Monitor: it is re-entrant, and a part running on the calling thread must not dispatch again.
        if (parts <= 1 || Interlocked.CompareExchange(ref s_busy, 1, 0) != 0)
        {
            for (int p = 0; p < Math.Max(parts, 1); p++) body(state, p, Math.Max(parts, 1));
            return;
        }
        try
        {
            EnsureWorkers(parts - 1);
            int pending = parts - 1;
            for (int p = 1; p < parts; p++) s_workers[p - 1].Start(body, state, p, parts, &pending);
            body(state, 0, parts);
            var spin = new SpinWait();
            while (Volatile.Read(ref pending) > 0) spin.SpinOnce(sleep1Threshold: -1);
            if (s_failure is { } failure)
            {
                s_failure = null;
                throw new InvalidOperationException("a worker thread failed", failure);
            }
        }
        finally
        {
            Volatile.Write(ref s_busy, 0);
        }
    }

    private static void EnsureWorkers(int count)
    {
        if (s_workers.Length >= count) return;
        var workers = new Worker[count];
        Array.Copy(s_workers, workers, s_workers.Length);
        for (int i = s_workers.Length; i < count; i++) workers[i] = new Worker(i + 1);
        s_workers = workers;
    }

    private sealed class Worker
    {
        /// <summary>
        /// How long a worker keeps polling after its last part before it sleeps. A forward hands out a part every
        /// few tens of microseconds; waking a sleeping thread costs about as much, several hundred times a forward.
        /// </summary>
        private static readonly long s_spinTicks = System.Diagnostics.Stopwatch.Frequency / 2000; // 0.5 ms

        private readonly ManualResetEventSlim _wake = new(false);
        private delegate*<void*, int, int, void> _body;
        private void* _state;
        private int _part;
        private int _parts;
        private int* _pending;
        private int _generation;

        public Worker(int index)
        {
            var thread = new Thread(Loop) { IsBackground = true, Name = $"Res2Net worker {index}" };
            thread.Start();
        }

        public void Start(delegate*<void*, int, int, void> body, void* state, int part, int parts, int* pending)
        {
            _body = body;
            _state = state;
            _part = part;
            _parts = parts;
            _pending = pending;
            Interlocked.Increment(ref _generation); // publishes the fields above to a polling worker
            _wake.Set();
        }

        private void Loop()
        {
            int seen = 0;
            while (true)
            {
                long since = System.Diagnostics.Stopwatch.GetTimestamp();
                while (Volatile.Read(ref _generation) == seen)
                {
                    if (System.Diagnostics.Stopwatch.GetTimestamp() - since < s_spinTicks)
                    {
                        Thread.SpinWait(20);
                        continue;
                    }
                    _wake.Wait();
                    _wake.Reset();
                    since = System.Diagnostics.Stopwatch.GetTimestamp();
                }
                seen = Volatile.Read(ref _generation);
                try
                {
                    _body(_state, _part, _parts);
                }
                catch (Exception e)
                {
                    // Rethrown on the calling thread; an exception escaping here would end the process.
                    s_failure = e;
                }
                finally
                {
                    Interlocked.Decrement(ref *_pending);
                }
            }
        }
    }
}
