using Res2Net.Runtime.Checkpoints;
using Res2Net.Runtime.Download;
using Res2Net.Runtime.IO;
using Res2Net.Runtime.Networks;
using Spectre.Console;

namespace Res2Net.Cli.Commands;

/// <summary>
/// Finds the checkpoint for a network: the one the user named, else the file in the cache
/// (<c>$RES2NET_HOME/checkpoints</c>, default <c>~/.cache/res2net/checkpoints</c>) under the name of its official URL,
/// downloading it there first (with a progress bar on a terminal) when it is missing.
/// </summary>
internal static class CheckpointLocator
{
    public static string CacheDirectory => CheckpointCache.CheckpointDirectory;

    /// <summary>The checkpoint's path; downloads into the cache if needed, reporting progress on <paramref name="stderr"/> (default the console's).</summary>
    public static string Resolve(NetworkInfo info, FileInfo? explicitPath, TextWriter? stderr = null) =>
        Resolve(info, explicitPath, stderr, new PretrainedOptions());

    /// <summary>As above with explicit download options (the defaults read <c>RES2NET_HOME</c>, <c>RES2NET_DOWNLOAD_BASE</c>, <c>RES2NET_OFFLINE</c>).</summary>
    internal static string Resolve(NetworkInfo info, FileInfo? explicitPath, TextWriter? stderr, PretrainedOptions options)
    {
        if (explicitPath != null)
        {
            if (!explicitPath.Exists) throw new CliException($"checkpoint {explicitPath.FullName} does not exist.");
            return explicitPath.FullName;
        }
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
        explicitPath != null ? [explicitPath.FullName]
        : info.CheckpointUrl != null ? [PretrainedCheckpoints.CachePath(info, new PretrainedOptions())]
        : [];

    /// <summary>
    /// Resolves the checkpoint and streams it into <paramref name="network"/>; says on <paramref name="stderr"/> what was
    /// loaded. A cached file that cannot be read is reported with the advice to delete it.
    /// </summary>
    public static CheckpointLoadResult Load(CompiledNetwork network, FileInfo? explicitPath, TextWriter stderr)
    {
        string path = Resolve(network.Info, explicitPath, stderr);
        var result = explicitPath == null ? PretrainedCheckpoints.LoadCached(network, path) : network.LoadCheckpoint(path);
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
        return explicitPath == null ? PretrainedCheckpoints.ReadCached(info, path) : CheckpointReader.Read(path);
    }

    /// <summary>
    /// Downloads into the cache, with a progress bar on a terminal and plain lines otherwise. SIGINT (Ctrl-C), SIGTERM
    /// or SIGHUP cancels the download, which deletes its partial file; then the process ends as the signal asked
    /// (128 + its number, as a shell expects). A second signal ends it at once.
    /// </summary>
    private static string Download(NetworkInfo info, PretrainedOptions options, string path, TextWriter stderr)
    {
        string url = PretrainedCheckpoints.Url(info, options);
        using var interruption = InterruptSignals.CancelOnSignal();
        try
        {
            bool terminal = stderr == Console.Error && !Console.IsErrorRedirected;
            return terminal && options.AllowDownload
                ? DownloadWithProgressBar(info, options, url, path, interruption.Token)
                : DownloadWithProgressLines(info, options, url, path, stderr, interruption.Token);
        }
        catch (OperationCanceledException) when (interruption.Signal != 0)
        {
            stderr.WriteLine("res2net: download interrupted; the partial file was deleted.");
            stderr.Flush();
            Environment.Exit(128 + interruption.Signal);
            throw;
        }
    }

    private static string DownloadWithProgressLines(NetworkInfo info, PretrainedOptions options, string url, string path, TextWriter stderr,
        CancellationToken cancellationToken)
    {
        if (options.AllowDownload) stderr.WriteLine($"downloading {url}\n  to {path}");
        string done = PretrainedCheckpoints.Ensure(info, options with { Progress = new DownloadProgressLines(stderr) }, cancellationToken);
        stderr.WriteLine($"downloaded {new FileInfo(done).Length:N0} bytes, sha256 prefix {info.CheckpointSha256 ?? "(none)"} verified");
        return done;
    }

    private static string DownloadWithProgressBar(NetworkInfo info, PretrainedOptions options, string url, string path, CancellationToken cancellationToken)
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
                string done = PretrainedCheckpoints.Ensure(info, options with { Progress = progress }, cancellationToken);
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
