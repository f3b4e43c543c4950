using System.Text.RegularExpressions;
using Res2Net.Runtime.Checkpoints;
using Res2Net.Runtime.Download;
using Res2Net.Runtime.IO;
using Res2Net.Runtime.Networks;
using Spectre.Console;

namespace Res2Net.Cli.Commands;

/// <summary>
/// Finds the checkpoint for a network: the one the user named, else the file in the cache
/// (<c>$RES2NET_HOME/checkpoints</c>, default <c>~/.cache/res2net/checkpoints</c>) under the name of its official URL,
/// downloading it there first (with a progress bar on a terminal) when it is missing. The user may name it by an
/// http(s) URL instead of a file, as mmpretrain's <c>tools/test.py CONFIG URL</c> does: it is fetched into the same cache
/// under its file name, with the same hash check, resumption, progress and offline rule, and taken from there next time.
/// </summary>
internal static partial class CheckpointLocator
{
    public static string CacheDirectory => CheckpointCache.CheckpointDirectory;

    /// <summary>The checkpoint's path; downloads into the cache if needed, reporting progress on <paramref name="stderr"/> (default the console's).</summary>
    public static string Resolve(NetworkInfo info, FileInfo? explicitPath, TextWriter? stderr = null) =>
        Resolve(info, explicitPath, stderr, new PretrainedOptions());

    /// <summary>As above with explicit download options (the defaults read <c>RES2NET_HOME</c>, <c>RES2NET_DOWNLOAD_BASE</c>, <c>RES2NET_OFFLINE</c>).</summary>
    internal static string Resolve(NetworkInfo info, FileInfo? explicitPath, TextWriter? stderr, PretrainedOptions options)
    {
        if (explicitPath != null) return ResolveFile(explicitPath, stderr, options);
        if (info.CheckpointUrl == null)
        {
            throw new CliException($"{info.Name} has no pretrained checkpoint in its spec ({info.SpecFile}); pass one with --checkpoint FILE.");
        }
        stderr ??= Console.Error;
        try
        {
            string path = PretrainedCheckpoints.CachePath(info, options);
            return File.Exists(path) ? path : Download(info, options, path, stderr);
        }
        catch (CheckpointDownloadException e)
        {
            throw new CliException($"no checkpoint for {info.Name}: {e.Message}\nor pass it with --checkpoint FILE.");
        }
    }

    /// <summary>
    /// Where the checkpoint is or will be, without downloading: the file the user named, else the cache path (none when
    /// the network has no official checkpoint). Commands check that their outputs are not it before starting.
    /// </summary>
    public static string[] InputPaths(NetworkInfo info, FileInfo? explicitPath) =>
        explicitPath != null ? [InputPath(explicitPath)]
        : info.CheckpointUrl != null ? [PretrainedCheckpoints.CachePath(info, new PretrainedOptions())]
        : [];

    /// <summary>
    /// Resolves the checkpoint and streams it into <paramref name="network"/>; says on <paramref name="stderr"/> what was
    /// loaded. A cached file that cannot be read is reported with the advice to delete it.
    /// </summary>
    public static CheckpointLoadResult Load(CompiledNetwork network, FileInfo? explicitPath, TextWriter stderr)
    {
        string path = Resolve(network.Info, explicitPath, stderr);
        var result = explicitPath == null ? PretrainedCheckpoints.LoadCached(network, path)
            : IsUrl(explicitPath, out string url) ? ReadDownloaded(path, url, network.LoadCheckpoint)
            : network.LoadCheckpoint(path);
        stderr.WriteLine($"checkpoint: {result.SourcePath} ({result.Summary})");
        return result;
    }

    /// <summary>
    /// Resolves the checkpoint and reads its state dict into memory (for commands that need no network, such as export).
    /// A cached file that cannot be read is reported with the advice to delete it, as by <see cref="Load"/>.
    /// </summary>
    public static StateDict Read(NetworkInfo info, FileInfo? explicitPath)
    {
        string path = Resolve(info, explicitPath);
        return explicitPath == null ? PretrainedCheckpoints.ReadCached(info, path)
            : IsUrl(explicitPath, out string url) ? ReadDownloaded(path, url, CheckpointReader.Read)
            : CheckpointReader.Read(path);
    }

    /// <summary>
    /// A checkpoint the user named (<c>--checkpoint</c>, or convert's <c>IN</c>): the file, which must exist, or for a URL
    /// the cached copy, downloaded first when missing.
    /// </summary>
    public static string ResolveFile(FileInfo argument, TextWriter? stderr = null, PretrainedOptions? options = null)
    {
        options ??= new PretrainedOptions();
        if (!IsUrl(argument, out string url))
        {
            if (!argument.Exists) throw new CliException($"checkpoint {argument.FullName} does not exist.");
            return argument.FullName;
        }
        string path = UrlCachePath(url, options);
        if (File.Exists(path)) return path;   // as torch.hub's load_state_dict_from_url: a cached file is not fetched again
        string? prefix = CheckpointCache.HashPrefix(Path.GetFileName(path));
        return Download(url, path, prefix, options, stderr ?? Console.Error, (o, token) =>
        {
            if (!o.AllowDownload)
                throw new CheckpointDownloadException(url, path, $"it is not in the cache and downloading is switched off ({CheckpointCache.OfflineVariable})");
            CheckpointDownloader.Download(url, path, prefix, o, token);
            return path;
        });
    }

    /// <summary>The file a checkpoint argument reads (for a URL, its place in the cache), without downloading anything.</summary>
    public static string InputPath(FileInfo argument) =>
        IsUrl(argument, out string url) ? UrlCachePath(url, new PretrainedOptions()) : argument.FullName;

    /// <summary>
    /// True when the argument was written as a URL (<c>scheme://…</c>) rather than a path. System.CommandLine has made
    /// it a <see cref="FileInfo"/>, whose <see cref="FileSystemInfo.ToString"/> is the text as given.
    /// </summary>
    private static bool IsUrl(FileInfo argument, out string url)
    {
        url = argument.ToString();
        return UrlScheme().IsMatch(url);
    }

    [GeneratedRegex("^[A-Za-z][A-Za-z0-9+.-]*://")]
    private static partial Regex UrlScheme();

    /// <summary>Where a checkpoint URL is cached: under its file name, as torch.hub keeps them.</summary>
    /// <exception cref="CliException">The URL is not http(s), or ends in no file name.</exception>
    private static string UrlCachePath(string url, PretrainedOptions options)
    {
        if (!CheckpointCache.TryHttpUri(url, out _))
            throw new CliException($"checkpoint URL {DisplayText.Escape(url)}: only http:// and https:// URLs are fetched; give a file or an http(s) URL.");
        string name;
        try
        {
            name = CheckpointCache.FileName(url);
        }
        catch (ArgumentException)
        {
            throw new CliException($"checkpoint URL {DisplayText.Escape(url)} names no file; it must end in the checkpoint's file name (the name it is cached under).");
        }
        // The name becomes a file in the cache and is printed in messages: no escape sequences through %1b and the like.
        if (name.Any(char.IsControl))
            throw new CliException($"checkpoint URL {DisplayText.Escape(url)}: its file name holds control characters ({DisplayText.Escape(name)}).");
        return Path.Combine(options.CacheDirectory ?? CheckpointCache.CheckpointDirectory, name);
    }

    /// <summary>Reads a checkpoint fetched from a URL; one that cannot be read is named with the advice to delete it and fetch it again.</summary>
    private static T ReadDownloaded<T>(string path, string url, Func<string, T> read)
    {
        try
        {
            return read(path);
        }
        catch (CheckpointException e)
        {
            throw new CheckpointException(path, $"{e.Cause}; it is the cached download of {url}: delete {path} and run again to download it afresh", e);
        }
    }

    /// <summary>Downloads the network's checkpoint into the cache (see <see cref="Download(string, string, string?, PretrainedOptions, TextWriter, Func{PretrainedOptions, CancellationToken, string})"/>).</summary>
    private static string Download(NetworkInfo info, PretrainedOptions options, string path, TextWriter stderr) =>
        Download(PretrainedCheckpoints.Url(info, options), path, info.CheckpointSha256 ?? CheckpointCache.HashPrefix(Path.GetFileName(path)), options, stderr,
            (o, token) => PretrainedCheckpoints.Ensure(info, o, token));

    /// <summary>
    /// Runs <paramref name="fetch"/> (which downloads <paramref name="url"/> to <paramref name="path"/>, checking
    /// <paramref name="sha256Prefix"/>) with a progress bar on a terminal and plain lines otherwise. SIGINT (Ctrl-C), SIGTERM
    /// or SIGHUP cancels the download, which deletes its partial file; then the process ends as the signal asked
    /// (128 + its number, as a shell expects). A second signal ends it at once.
    /// </summary>
    private static string Download(string url, string path, string? sha256Prefix, PretrainedOptions options, TextWriter stderr,
        Func<PretrainedOptions, CancellationToken, string> fetch)
    {
        using var interruption = InterruptSignals.CancelOnSignal();
        try
        {
            bool terminal = stderr == Console.Error && !Console.IsErrorRedirected;
            return terminal && options.AllowDownload
                ? DownloadWithProgressBar(options, url, path, fetch, interruption.Token)
                : DownloadWithProgressLines(options, url, path, sha256Prefix, stderr, fetch, interruption.Token);
        }
        catch (OperationCanceledException) when (interruption.Signal != 0)
        {
            stderr.WriteLine("res2net: download interrupted; the partial file was deleted.");
            stderr.Flush();
            Environment.Exit(128 + interruption.Signal);
            throw;
        }
    }

    private static string DownloadWithProgressLines(PretrainedOptions options, string url, string path, string? sha256Prefix, TextWriter stderr,
        Func<PretrainedOptions, CancellationToken, string> fetch, CancellationToken cancellationToken)
    {
        if (options.AllowDownload) stderr.WriteLine($"downloading {url}\n  to {path}");
        string done = fetch(options with { Progress = new DownloadProgressLines(stderr) }, cancellationToken);
        stderr.WriteLine($"downloaded {new FileInfo(done).Length:N0} bytes, " +
                         (sha256Prefix == null ? "no sha256 prefix in its name to verify" : $"sha256 prefix {sha256Prefix} verified"));
        return done;
    }

    private static string DownloadWithProgressBar(PretrainedOptions options, string url, string path,
        Func<PretrainedOptions, CancellationToken, string> fetch, CancellationToken cancellationToken)
    {
        var console = AnsiConsole.Create(new AnsiConsoleSettings
        {
            Out = new AnsiConsoleOutput(Console.Error),
            Ansi = AnsiSupport.Detect,
            ColorSystem = ColorSystemSupport.Detect,
            Interactive = InteractionSupport.Detect,
        });
        console.MarkupLine($"downloading [blue]{Markup.Escape(url)}[/]\n  to {Markup.Escape(path)}");
        return console.Progress()
            .AutoClear(false)
            .Columns(new TaskDescriptionColumn(), new ProgressBarColumn(), new PercentageColumn(), new DownloadedColumn(),
                new TransferSpeedColumn(), new RemainingTimeColumn())
            .Start(context =>
            {
                var task = context.AddTask(Markup.Escape(Path.GetFileName(path)), maxValue: 1);
                task.IsIndeterminate = true;
                var progress = new Reporter(p =>
                {
                    if (p.TotalBytes is { } total)
                    {
                        task.IsIndeterminate = false;
                        task.MaxValue = total;
                    }
                    task.Value = p.BytesReceived;
                });
                string done = fetch(options with { Progress = progress }, cancellationToken);
                task.Value = task.MaxValue;
                task.StopTask();
                return done;
            });
    }

    /// <summary>Reports on the downloading thread (Progress&lt;T&gt; would post to the thread pool, out of order).</summary>
    private sealed class Reporter(Action<DownloadProgress> report) : IProgress<DownloadProgress>
    {
        public void Report(DownloadProgress value) => report(value);
    }
}
