using System.Globalization;

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

    /// <summary>
    /// How long a download may wait for an answer, or for the next byte of one, before it fails (naming the URL and
    /// the seconds waited; a stall is not retried). Default the <c>RES2NET_DOWNLOAD_TIMEOUT</c> environment variable
    /// (seconds), else <see cref="DefaultStallTimeout"/>.
    /// </summary>
    public TimeSpan? StallTimeout { get; init; }

    /// <summary>
    /// The most bytes one download may bring: a larger announced size is refused before reading, and a body without one
    /// is stopped there. Default the <c>RES2NET_DOWNLOAD_MAX_BYTES</c> environment variable, else <see cref="DefaultMaxDownloadBytes"/>.
    /// </summary>
    public long? MaxDownloadBytes { get; init; }

    /// <summary>The client to use; default a shared one with no overall timeout (stalls are caught by <see cref="StallTimeout"/>).</summary>
    public HttpClient? HttpClient { get; init; }

    /// <summary>30 s: generous for any working connection, short enough that a dead one is reported while the user waits.</summary>
    public static readonly TimeSpan DefaultStallTimeout = TimeSpan.FromSeconds(30);

    /// <summary>4 GiB: about twenty times the largest seed checkpoint (res2net50-w26-s8, 48.4M parameters, about 194 MB).</summary>
    public const long DefaultMaxDownloadBytes = 4L << 30;

    internal string ResolvedCacheDirectory => CacheDirectory ?? CheckpointCache.CheckpointDirectory;

    internal string? ResolvedBaseUrl => DownloadBaseUrl ?? NullIfEmpty(Environment.GetEnvironmentVariable(CheckpointCache.DownloadBaseVariable));

    /// <summary>Where <see cref="ResolvedBaseUrl"/> came from, for messages.</summary>
    internal string BaseUrlSource => DownloadBaseUrl != null ? "PretrainedOptions.DownloadBaseUrl" : CheckpointCache.DownloadBaseVariable;

    /// <exception cref="FormatException">The option is not positive (or infinite), or the environment variable is set but is not a positive number of seconds.</exception>
    internal TimeSpan ResolvedStallTimeout =>
        StallTimeout is { } option
            ? (option > TimeSpan.Zero || option == Timeout.InfiniteTimeSpan ? option
                : throw new FormatException($"PretrainedOptions.StallTimeout is {option}; expected more than zero, or Timeout.InfiniteTimeSpan"))
            : FromEnvironment<TimeSpan>(CheckpointCache.StallTimeoutVariable, "a number of seconds greater than 0, such as 30",
                s => double.TryParse(s, NumberStyles.Float, CultureInfo.InvariantCulture, out double v) && v > 0 && v <= int.MaxValue / 1000
                    ? TimeSpan.FromSeconds(v) : null) ?? DefaultStallTimeout;

    /// <exception cref="FormatException">The option is not positive, or the environment variable is set but is not a positive whole number.</exception>
    internal long ResolvedMaxDownloadBytes =>
        MaxDownloadBytes is { } option
            ? (option > 0 ? option : throw new FormatException($"PretrainedOptions.MaxDownloadBytes is {option}; expected more than 0"))
            : FromEnvironment<long>(CheckpointCache.MaxBytesVariable, "a whole number of bytes greater than 0, such as 4294967296",
                s => long.TryParse(s, NumberStyles.None, CultureInfo.InvariantCulture, out long v) && v > 0 ? v : null) ?? DefaultMaxDownloadBytes;

    private static T? FromEnvironment<T>(string variable, string expected, Func<string, T?> parse) where T : struct
    {
        string? text = NullIfEmpty(Environment.GetEnvironmentVariable(variable));
        if (text == null) return null;
        return parse(text.Trim()) ?? throw new FormatException($"{variable} is '{text}'; expected {expected}");
    }

    private static string? NullIfEmpty(string? s) => string.IsNullOrEmpty(s) ? null : s;
}
