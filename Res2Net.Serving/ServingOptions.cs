using Microsoft.Extensions.Logging;

namespace Res2Net.Serving;

/// <summary>How the server writes its log (to standard error).</summary>
public enum ServingLogFormat
{
    /// <summary>One line per event: time, level, category, message.</summary>
    Simple,

    /// <summary>One JSON object per line (Microsoft.Extensions.Logging's JSON console formatter), with the message's fields as properties: for log collectors.</summary>
    Json,

    /// <summary>No log.</summary>
    None,
}

/// <summary>
/// How <see cref="InferenceServer"/> listens, batches and bounds its work. Every value has a default that suits one
/// CPU machine; <see cref="Validate"/> checks them all before anything starts.
/// </summary>
public sealed record ServingOptions
{
    /// <summary>The most images one forward takes (<see cref="MaxBatch"/>); larger batches only amortize the per-forward overhead.</summary>
    public const int MaxBatchLimit = 1024;

    /// <summary>The most requests <see cref="QueueCapacity"/> may be.</summary>
    public const int MaxQueueCapacity = 100_000;

    /// <summary>
    /// Where to listen: <c>http://HOST:PORT</c> URLs (HOST <c>*</c> or <c>0.0.0.0</c> for every interface); port 0 takes a
    /// free port (see <see cref="InferenceServer.Urls"/>). Default: loopback port 8080.
    /// </summary>
    public IReadOnlyList<string> Urls { get; init; } = ["http://127.0.0.1:8080"];

    /// <summary>The most images one batched forward runs. Default 8.</summary>
    public int MaxBatch { get; init; } = 8;

    /// <summary>
    /// How long the oldest request waits for others to join its batch. A request that waited this long while the
    /// previous batch ran goes at once with those waiting beside it. Default 5 ms.
    /// </summary>
    public TimeSpan MaxDelay { get; init; } = TimeSpan.FromMilliseconds(5);

    /// <summary>
    /// The most requests a model holds waiting (being read and decoded, or queued for a forward); the next one is
    /// answered 503 with <c>Retry-After</c> at once, so a burst never grows an unbounded backlog. Default 64.
    /// </summary>
    public int QueueCapacity { get; init; } = 64;

    /// <summary>Each request's deadline from its arrival: past it, the answer is 504 and the request is dropped from the queue. Default 30 s.</summary>
    public TimeSpan Timeout { get; init; } = TimeSpan.FromSeconds(30);

    /// <summary>
    /// The largest request body, in bytes; larger ones are answered 413. Default: enough for a JSON tensor of
    /// <see cref="MaxBatch"/> images of the largest model served (20 bytes per value) plus 1 MiB, at least 16 MiB and at most 1 GiB.
    /// </summary>
    public long? MaxRequestBodyBytes { get; init; }

    /// <summary>
    /// On SIGTERM or Ctrl-C, how long requests in flight may take to finish before they are cut off. Default 25 s, within
    /// Kubernetes' default grace period of 30 s between SIGTERM and SIGKILL.
    /// </summary>
    public TimeSpan ShutdownTimeout { get; init; } = TimeSpan.FromSeconds(25);

    /// <summary>The log's format. Default <see cref="ServingLogFormat.Simple"/>.</summary>
    public ServingLogFormat LogFormat { get; init; } = ServingLogFormat.Simple;

    /// <summary>The least severe events logged. Default Information (every batch and request is logged at Debug).</summary>
    public LogLevel LogLevel { get; init; } = LogLevel.Information;

    /// <summary>
    /// Before readiness turns true, run each model's forward once at batch 1 and once at the largest batch whose images
    /// run side by side on the threads, on blank images. A compiled network's first forward compiles its kernels, one per
    /// layer type (about 0.6 s for a seed model on the 2-core development machine, 2026-12-01); warmed up, the first
    /// request does not pay it. Default true.
    /// </summary>
    public bool WarmUp { get; init; } = true;

    /// <summary>Stop on SIGTERM and Ctrl-C (a server process); false when a host process (a test) stops the server itself.</summary>
    public bool HandleSignals { get; init; } = true;

    /// <summary>Checks every value; throws naming the first one that is out of range.</summary>
    /// <exception cref="ArgumentException">A value is out of range or a URL is not an http URL.</exception>
    public void Validate()
    {
        if (Urls.Count == 0) throw new ArgumentException("no URL to listen on (--urls)");
        foreach (string url in Urls)
        {
            // Kestrel's wildcard hosts (http://*:8080, http://+:8080: every interface) are not URIs; check the rest as one.
            string checkable = url.Replace("://*:", "://0.0.0.0:", StringComparison.Ordinal).Replace("://+:", "://0.0.0.0:", StringComparison.Ordinal);
            if (!Uri.TryCreate(checkable, UriKind.Absolute, out var uri) || uri.Scheme != Uri.UriSchemeHttp || uri.Host.Length == 0
                || uri.AbsolutePath != "/" || uri.Query.Length > 0 || uri.UserInfo.Length > 0)
            {
                throw new ArgumentException($"'{Runtime.IO.DisplayText.Shorten(url)}' is not a URL to listen on (--urls); expected http://HOST:PORT, e.g. http://0.0.0.0:8080 (https is left to a proxy in front)");
            }
        }
        if (MaxBatch < 1 || MaxBatch > MaxBatchLimit) throw new ArgumentException($"the max batch (--max-batch) must be 1 to {MaxBatchLimit}, got {MaxBatch}");
        if (MaxDelay < TimeSpan.Zero || MaxDelay > TimeSpan.FromSeconds(10)) throw new ArgumentException($"the max delay (--max-delay-ms) must be 0 to 10 s, got {MaxDelay}");
        if (QueueCapacity < 1 || QueueCapacity > MaxQueueCapacity)
            throw new ArgumentException($"the queue (--queue) must hold 1 to {MaxQueueCapacity} requests, got {QueueCapacity}");
        if (Timeout <= TimeSpan.Zero || Timeout > TimeSpan.FromHours(1)) throw new ArgumentException($"the deadline (--timeout-ms) must be over 0 and at most 1 hour, got {Timeout}");
        if (MaxRequestBodyBytes is < 1024 or > 1L << 30)
            throw new ArgumentException($"the body limit (--max-body-mb) must be 1 KiB to 1 GiB, got {MaxRequestBodyBytes} bytes");
        if (ShutdownTimeout < TimeSpan.Zero) throw new ArgumentException($"the shutdown timeout cannot be negative, got {ShutdownTimeout}");
    }

    /// <summary>The body limit in force: <see cref="MaxRequestBodyBytes"/>, or the default for the models served.</summary>
    internal long BodyLimit(IEnumerable<ServedModel> models) =>
        MaxRequestBodyBytes ?? Math.Clamp(models.Max(m => (long)m.Info.InputElements) * MaxBatch * 20 + (1L << 20), 16L << 20, 1L << 30);
}
