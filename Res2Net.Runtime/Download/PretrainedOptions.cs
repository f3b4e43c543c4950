namespace Res2Net.Runtime.Download;

/// <summary>How pretrained checkpoints are found and fetched; every property has a working default.</summary>
public sealed record PretrainedOptions
{
    /// <summary>The cache folder; default <see cref="CheckpointCache.CheckpointDirectory"/> (<c>$RES2NET_HOME/checkpoints</c>).</summary>
    public string? CacheDirectory { get; init; }

    /// <summary>
    /// Fetch from this base URL (plus the checkpoint's file name) instead of the spec's URL; default the
    /// <c>RES2NET_DOWNLOAD_BASE</c> environment variable, else the spec's URL itself.
    /// </summary>
    public string? DownloadBaseUrl { get; init; }

    /// <summary>Receives progress as bytes arrive (called on the downloading thread).</summary>
    public IProgress<DownloadProgress>? Progress { get; init; }

    /// <summary>
    /// False to use only what the cache holds (fail with the URL and path instead of downloading); default true unless
    /// the <c>RES2NET_OFFLINE</c> environment variable is <c>1</c> or <c>true</c>.
    /// </summary>
    public bool AllowDownload { get; init; } = !CheckpointCache.OfflineByEnvironment;

    /// <summary>Requests per download, the first included, before a dropped connection is given up on.</summary>
    public int MaxAttempts { get; init; } = 5;

    /// <summary>Wait before the first retry; doubled for each further one.</summary>
    public TimeSpan RetryDelay { get; init; } = TimeSpan.FromSeconds(1);

    /// <summary>A connection that delivers no byte for this long counts as dropped (and is resumed).</summary>
    public TimeSpan StallTimeout { get; init; } = TimeSpan.FromSeconds(60);

    /// <summary>The client to use; default a shared one with no overall timeout (stalls are caught by <see cref="StallTimeout"/>).</summary>
    public HttpClient? HttpClient { get; init; }

    internal string ResolvedCacheDirectory => CacheDirectory ?? CheckpointCache.CheckpointDirectory;

    internal string? ResolvedBaseUrl => DownloadBaseUrl ?? NullIfEmpty(Environment.GetEnvironmentVariable(CheckpointCache.DownloadBaseVariable));

    private static string? NullIfEmpty(string? s) => string.IsNullOrEmpty(s) ? null : s;
}
