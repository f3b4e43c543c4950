using Prometheus;

namespace Res2Net.Serving;

/// <summary>
/// The server's Prometheus metrics (prometheus-net), in a registry of its own so that two servers in one process
/// (tests, benchmarks) count apart. <c>GET /metrics</c> exports them with the process's memory, CPU and GC figures.
/// </summary>
internal sealed class ServingMetrics
{
    public ServingMetrics(int maxBatch)
    {
        Registry = Metrics.NewCustomRegistry();
        DotNetStats.Register(Registry);
        var factory = Metrics.WithCustomRegistry(Registry);
        Requests = factory.CreateCounter("res2net_requests_total", "HTTP requests answered, by endpoint, model and status code.",
            new CounterConfiguration { LabelNames = ["endpoint", "model", "code"] });
        RequestSeconds = factory.CreateHistogram("res2net_request_duration_seconds", "Time from a request's arrival to its answer, by endpoint and model.",
            new HistogramConfiguration { LabelNames = ["endpoint", "model"], Buckets = Histogram.ExponentialBuckets(0.0005, 2, 18) });
        QueueDepth = factory.CreateGauge("res2net_queue_depth", "Requests a model holds waiting for a forward (being read and decoded, or queued).",
            new GaugeConfiguration { LabelNames = ["model"] });
        QueueWaitSeconds = factory.CreateHistogram("res2net_queue_wait_seconds", "Time from a request's arrival to the start of its forward.",
            new HistogramConfiguration { LabelNames = ["model"], Buckets = Histogram.ExponentialBuckets(0.0005, 2, 18) });
        BatchSize = factory.CreateHistogram("res2net_batch_size", "Images per batched forward.",
            new HistogramConfiguration { LabelNames = ["model"], Buckets = BatchBuckets(maxBatch) });
        ForwardSeconds = factory.CreateHistogram("res2net_forward_duration_seconds", "Time of one batched forward.",
            new HistogramConfiguration { LabelNames = ["model"], Buckets = Histogram.ExponentialBuckets(0.0001, 2, 20) });
        Dropped = factory.CreateCounter("res2net_dropped_requests_total", "Requests taken off a queue unrun, because their deadline passed or their client left.",
            new CounterConfiguration { LabelNames = ["model"] });
    }

    public CollectorRegistry Registry { get; }

    public Counter Requests { get; }

    public Histogram RequestSeconds { get; }

    public Gauge QueueDepth { get; }

    public Histogram QueueWaitSeconds { get; }

    public Histogram BatchSize { get; }

    public Histogram ForwardSeconds { get; }

    public Counter Dropped { get; }

    /// <summary>1, 2, 4, … below <paramref name="maxBatch"/>, then <paramref name="maxBatch"/>: every batch size up to 8 is told apart.</summary>
    private static double[] BatchBuckets(int maxBatch)
    {
        var buckets = new SortedSet<double>();
        for (int b = 1; b < maxBatch; b = b < 8 ? b + 1 : b * 2) buckets.Add(b);
        buckets.Add(maxBatch);
        return buckets.ToArray();
    }
}
