using System.Diagnostics;
using System.Globalization;
using Res2Net.Runtime.Download;

namespace Res2Net.Cli.Commands;

/// <summary>
/// Download progress as plain lines, for a stderr that is not a terminal (a log file, CI), where a progress bar would be
/// noise: a line at each tenth of a known size, and one every <see cref="Interval"/> in any case, so that a slow or
/// resumed download is never silent.
/// </summary>
internal sealed class DownloadProgressLines(TextWriter writer, Func<TimeSpan> clock) : IProgress<DownloadProgress>
{
    public static readonly TimeSpan Interval = TimeSpan.FromSeconds(10);

    private TimeSpan _lastLine = clock();
    private long _tenthsShown;

    /// <summary>Lines timed by the wall clock, from now.</summary>
    public DownloadProgressLines(TextWriter writer)
        : this(writer, WallClock())
    {
    }

    public void Report(DownloadProgress value)
    {
        var now = clock();
        long? total = value.TotalBytes is > 0 ? value.TotalBytes : null;
        long tenths = total is { } t ? Math.Min(10, value.BytesReceived * 10 / t) : 0;
        if (tenths <= _tenthsShown && now - _lastLine < Interval) return;
        _tenthsShown = Math.Max(_tenthsShown, tenths);
        _lastLine = now;
        string size = total is { } all
            ? $"{MiB(value.BytesReceived)} of {MiB(all)} MiB ({Math.Min(100, value.BytesReceived * 100 / all)}%)"
            : $"{MiB(value.BytesReceived)} MiB so far";
        writer.WriteLine(value.Attempt > 1 ? $"  {size}, attempt {value.Attempt}" : $"  {size}");
    }

    private static Func<TimeSpan> WallClock()
    {
        var watch = Stopwatch.StartNew();
        return () => watch.Elapsed;
    }

    private static string MiB(long bytes) => (bytes / 1048576.0).ToString("0.0", CultureInfo.InvariantCulture);
}
