using Res2Net.Cli.Commands;
using Res2Net.Runtime.Download;
using Res2Net.Tests.Download;
using Xunit;

namespace Res2Net.Tests.Cli;

/// <summary>
/// Progress of a download when stderr is not a terminal (a log, CI): a plain line at every tenth of a known size, or
/// every 10 seconds when the size is unknown, so a slow download is never silent.
/// </summary>
[Collection(ProcessEnvironment.Name)] // the download test reads RES2NET_* variables that other tests set
public class DownloadProgressLinesTests
{
    private const string Url = "http://127.0.0.1/a.pth";

    [Fact]
    public void KnownSizeGivesALineAtEachTenth()
    {
        var writer = new StringWriter();
        var now = TimeSpan.Zero;
        var lines = new DownloadProgressLines(writer, () => now);

        // 10 MiB in 64 KiB reads, one read every 10 ms: 160 reports in 1.6 s, so no line is due to time; each tenth is
        // reached exactly at a whole MiB.
        const long Total = 10L << 20;
        for (long have = 64 << 10; have <= Total; have += 64 << 10, now += TimeSpan.FromMilliseconds(10))
            lines.Report(new DownloadProgress(Url, have, Total, 1));

        string[] expected = Enumerable.Range(1, 10).Select(tenth => $"  {tenth}.0 of 10.0 MiB ({tenth * 10}%)").ToArray();
        Assert.Equal(expected, writer.ToString().ReplaceLineEndings("\n").TrimEnd('\n').Split('\n'));
    }

    [Fact]
    public void UnknownSizeGivesALineEveryTenSeconds()
    {
        var writer = new StringWriter();
        var now = TimeSpan.Zero;
        var lines = new DownloadProgressLines(writer, () => now);

        // One MiB a second for 35 s, in 4 reports a second; the size is never announced.
        for (int quarter = 1; quarter <= 140; quarter++)
        {
            now = TimeSpan.FromSeconds(quarter / 4.0);
            lines.Report(new DownloadProgress(Url, quarter * (1L << 18), null, quarter > 100 ? 2 : 1));
        }

        Assert.Equal(["  10.0 MiB so far", "  20.0 MiB so far", "  30.0 MiB so far, attempt 2"],
            writer.ToString().ReplaceLineEndings("\n").TrimEnd('\n').Split('\n'));
    }

    [Fact]
    public void DownloadWithStderrRedirectedPrintsPlainProgressLines()
    {
        byte[] checkpoint = DownloadTests.Checkpoint;
        using var server = LocalHttpServer.Serving(new Dictionary<string, byte[]> { ["/" + DownloadTests.FileName] = checkpoint });
        var info = Networks.Res2NetModels.Create("tiny-plain").Info with
        {
            CheckpointUrl = "https://example.invalid/" + DownloadTests.FileName, CheckpointSha256 = DownloadTests.Prefix,
        };
        var options = new PretrainedOptions { CacheDirectory = DownloadTests.NewCache(), DownloadBaseUrl = server.BaseUrl };
        var stderr = new StringWriter();

        CheckpointLocator.Resolve(info, null, stderr, options);

        double mib = checkpoint.Length / 1048576.0;
        Assert.Contains($"  {mib:0.0} of {mib:0.0} MiB (100%)\n", stderr.ToString().ReplaceLineEndings("\n"));
    }
}
