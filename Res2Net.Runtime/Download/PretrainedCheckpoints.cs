using Res2Net.Runtime.Checkpoints;
using Res2Net.Runtime.Networks;

namespace Res2Net.Runtime.Download;

/// <summary>
/// mmpretrain's <c>get_model(name, pretrained=True)</c> for compiled networks: the checkpoint named by the network's
/// spec (<see cref="NetworkInfo.CheckpointUrl"/>) is taken from the cache, or downloaded into it first, then loaded.
/// </summary>
public static class PretrainedCheckpoints
{
    /// <summary>The URL that will be fetched for <paramref name="info"/> (the spec's, or under the configured base URL).</summary>
    /// <exception cref="CheckpointDownloadException">The configured base URL is not an absolute http(s) URL; the message names the setting.</exception>
    public static string Url(NetworkInfo info, PretrainedOptions? options = null)
    {
        options ??= new PretrainedOptions();
        string url = SpecUrl(info);
        string? baseUrl = options.ResolvedBaseUrl;
        if (!string.IsNullOrEmpty(baseUrl) && !CheckpointCache.TryHttpUri(baseUrl, out _))
            throw new CheckpointDownloadException(url, CachePath(info, options),
                $"{options.BaseUrlSource} is '{baseUrl}'; expected an absolute http:// or https:// URL of a folder that holds {CheckpointCache.FileName(url)}");
        return CheckpointCache.Resolve(url, baseUrl);
    }

    /// <summary>Where the checkpoint of <paramref name="info"/> is cached (whether or not it is there yet): the spec URL's file name in the cache folder.</summary>
    public static string CachePath(NetworkInfo info, PretrainedOptions? options = null) =>
        Path.Combine((options ?? new PretrainedOptions()).ResolvedCacheDirectory, CheckpointCache.FileName(SpecUrl(info)));

    /// <summary>
    /// The path of the network's checkpoint: the cached file if present (no request is made), else downloaded into the
    /// cache and verified against the sha256 prefix of its file name.
    /// </summary>
    /// <exception cref="CheckpointDownloadException">Not cached and the download failed; the message says where to put the file by hand.</exception>
    public static async Task<string> EnsureAsync(NetworkInfo info, PretrainedOptions? options = null, CancellationToken cancellationToken = default)
    {
        options ??= new PretrainedOptions();
        string path = CachePath(info, options);
        if (File.Exists(path)) return path;
        string url = Url(info, options);
        if (!options.AllowDownload)
            throw new CheckpointDownloadException(url, path, "it is not in the cache and downloading is switched off");
        await CheckpointDownloader.DownloadAsync(url, path, ExpectedSha256Prefix(info), options, cancellationToken).ConfigureAwait(false);
        return path;
    }

    /// <summary>Synchronous <see cref="EnsureAsync"/>.</summary>
    public static string Ensure(NetworkInfo info, PretrainedOptions? options = null, CancellationToken cancellationToken = default) =>
        Task.Run(() => EnsureAsync(info, options, cancellationToken), cancellationToken).GetAwaiter().GetResult();

    /// <summary>Ensures the checkpoint is cached, then streams it into <paramref name="network"/> (see <see cref="LoadCached"/>).</summary>
    public static async Task<CheckpointLoadResult> LoadAsync(CompiledNetwork network, PretrainedOptions? options = null, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(network);
        return LoadCached(network, await EnsureAsync(network.Info, options, cancellationToken).ConfigureAwait(false));
    }

    /// <summary>Synchronous <see cref="LoadAsync"/>.</summary>
    public static CheckpointLoadResult Load(CompiledNetwork network, PretrainedOptions? options = null, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(network);
        return LoadCached(network, Ensure(network.Info, options, cancellationToken));
    }

    /// <summary>
    /// Streams the cached checkpoint at <paramref name="path"/> into <paramref name="network"/>. A cached file that cannot
    /// be read is not deleted for the user (it may have been placed there by hand), but when its sha256 no longer starts
    /// with the published prefix the error says so, and to delete it so that the next run downloads it afresh.
    /// </summary>
    /// <exception cref="CheckpointException">The file cannot be read; the message starts with its path.</exception>
    public static CheckpointLoadResult LoadCached(CompiledNetwork network, string path)
    {
        ArgumentNullException.ThrowIfNull(network);
        return ReadCached(network.Info, path, network.LoadCheckpoint);
    }

    /// <summary>
    /// Reads the cached checkpoint of <paramref name="info"/> at <paramref name="path"/> into memory (e.g. to export it),
    /// with the same advice as <see cref="LoadCached"/> when it cannot be read.
    /// </summary>
    /// <exception cref="CheckpointException">The file cannot be read; the message starts with its path.</exception>
    public static StateDict ReadCached(NetworkInfo info, string path) => ReadCached(info, path, CheckpointReader.Read);

    private static T ReadCached<T>(NetworkInfo info, string path, Func<string, T> read)
    {
        ArgumentNullException.ThrowIfNull(info);
        try
        {
            return read(path);
        }
        catch (CheckpointException e)
        {
            // Hashed only now, on failure: a good cache hit is used without re-hashing, as torch.hub does.
            string? prefix = ExpectedSha256Prefix(info);
            if (prefix != null && Sha256Hex(path) is { } digest && digest.StartsWith(prefix, StringComparison.OrdinalIgnoreCase))
                throw; // the published file itself: downloading it again would not help
            string why = prefix == null ? "it is a cached download" : $"this cached download's sha256 no longer starts with {prefix} (damaged or replaced)";
            throw new CheckpointException(path, $"{e.Cause}; {why}: delete {path} and run again to download it afresh", e);
        }
    }

    /// <summary>The sha256 prefix the download must match: the spec's, else the one in the URL's file name (as torch.hub finds it).</summary>
    private static string? ExpectedSha256Prefix(NetworkInfo info) =>
        info.CheckpointSha256 ?? CheckpointCache.HashPrefix(CheckpointCache.FileName(SpecUrl(info)));

    private static string SpecUrl(NetworkInfo info)
    {
        ArgumentNullException.ThrowIfNull(info);
        return info.CheckpointUrl ?? throw new InvalidOperationException(
            $"{info.Name} has no pretrained checkpoint in its spec ({info.SpecFile}); load one from a file instead.");
    }

    /// <summary>The file's sha256 in lowercase hex; null when it cannot be read.</summary>
    private static string? Sha256Hex(string path)
    {
        try
        {
            return CheckpointCache.Sha256Hex(path);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            return null;
        }
    }
}
