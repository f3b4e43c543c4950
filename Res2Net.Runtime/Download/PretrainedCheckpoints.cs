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
    public static string Url(NetworkInfo info, PretrainedOptions? options = null)
    {
        ArgumentNullException.ThrowIfNull(info);
        string url = info.CheckpointUrl ?? throw new InvalidOperationException(
            $"{info.Name} has no pretrained checkpoint in its spec ({info.SpecFile}); load one from a file instead.");
        return CheckpointCache.Resolve(url, (options ?? new PretrainedOptions()).ResolvedBaseUrl);
    }

    /// <summary>Where the checkpoint of <paramref name="info"/> is cached (whether or not it is there yet).</summary>
    public static string CachePath(NetworkInfo info, PretrainedOptions? options = null) =>
        Path.Combine((options ?? new PretrainedOptions()).ResolvedCacheDirectory, CheckpointCache.FileName(Url(info, options)));

    /// <summary>
    /// The path of the network's checkpoint: the cached file if present (no request is made), else downloaded into the
    /// cache and verified against the sha256 prefix of its file name.
    /// </summary>
    /// <exception cref="CheckpointDownloadException">Not cached and the download failed; the message says where to put the file by hand.</exception>
    public static async Task<string> EnsureAsync(NetworkInfo info, PretrainedOptions? options = null, CancellationToken cancellationToken = default)
    {
        options ??= new PretrainedOptions();
        string url = Url(info, options);
        string path = CachePath(info, options);
        if (File.Exists(path)) return path;
        if (!options.AllowDownload)
            throw new CheckpointDownloadException(url, path, "it is not in the cache and downloading is switched off");
        string? prefix = info.CheckpointSha256 ?? CheckpointCache.HashPrefix(CheckpointCache.FileName(url));
        await CheckpointDownloader.DownloadAsync(url, path, prefix, options, cancellationToken).ConfigureAwait(false);
        return path;
    }

    /// <summary>Synchronous <see cref="EnsureAsync"/>.</summary>
    public static string Ensure(NetworkInfo info, PretrainedOptions? options = null, CancellationToken cancellationToken = default) =>
        Task.Run(() => EnsureAsync(info, options, cancellationToken), cancellationToken).GetAwaiter().GetResult();

    /// <summary>Ensures the checkpoint is cached, then streams it into <paramref name="network"/>.</summary>
    public static async Task<CheckpointLoadResult> LoadAsync(CompiledNetwork network, PretrainedOptions? options = null, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(network);
        string path = await EnsureAsync(network.Info, options, cancellationToken).ConfigureAwait(false);
        return network.LoadCheckpoint(path);
    }

    /// <summary>Synchronous <see cref="LoadAsync"/>.</summary>
    public static CheckpointLoadResult Load(CompiledNetwork network, PretrainedOptions? options = null, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(network);
        return network.LoadCheckpoint(Ensure(network.Info, options, cancellationToken));
    }
}
