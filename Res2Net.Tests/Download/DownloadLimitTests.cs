using System.Diagnostics;
using Res2Net.Runtime.Download;
using Xunit;
using static Res2Net.Tests.Download.DownloadTests;

namespace Res2Net.Tests.Download;

/// <summary>
/// The bounds a download keeps against a misbehaving server: a size cap (an announced size over it is refused before
/// any byte is read; an endless body is stopped at it) and a read-inactivity timeout, which fails at once, naming the
/// URL and the seconds without data, instead of retrying silently. Nothing is left in the cache.
/// </summary>
[Collection(ProcessEnvironment.Name)]
public class DownloadLimitTests
{
    private const long OneMiB = 1 << 20;

    [Fact]
    public async Task EndlessResponseIsStoppedAtTheSizeLimit()
    {
        using var server = new LocalHttpServer((_, _) => new LocalHttpServer.Reply(200, new byte[64 << 10]) { Endless = true });
        string cache = NewCache();
        string url = $"{server.BaseUrl}/{FileName}";

        var e = await Assert.ThrowsAsync<CheckpointDownloadException>(() =>
            CheckpointDownloader.DownloadAsync(url, Path.Combine(cache, FileName), Prefix, Options(cache) with { MaxDownloadBytes = OneMiB }));

        Assert.Contains("more than 1,048,576 bytes arrived, the limit for one checkpoint (RES2NET_DOWNLOAD_MAX_BYTES)", e.Message);
        Assert.Contains(url, e.Message);
        Assert.Single(server.Requests);
        Assert.Empty(Directory.GetFiles(cache));
    }

    [Fact]
    public async Task AnnouncedSizeOverTheLimitIsRefusedBeforeReading()
    {
        using var server = new LocalHttpServer((_, _) => new LocalHttpServer.Reply(200, new byte[2 * OneMiB]));
        string cache = NewCache();

        var e = await Assert.ThrowsAsync<CheckpointDownloadException>(() => CheckpointDownloader.DownloadAsync(
            $"{server.BaseUrl}/{FileName}", Path.Combine(cache, FileName), Prefix, Options(cache) with { MaxDownloadBytes = OneMiB }));

        Assert.Contains("the server announced 2,097,152 bytes, more than the limit of 1,048,576 for one checkpoint (RES2NET_DOWNLOAD_MAX_BYTES)", e.Message);
        Assert.Single(server.Requests);
        Assert.Empty(Directory.GetFiles(cache));
    }

    [Fact]
    public async Task SizeLimitIsReadFromTheEnvironment()
    {
        using var server = new LocalHttpServer((_, _) => new LocalHttpServer.Reply(200, new byte[64 << 10]) { Endless = true });
        string cache = NewCache();
        using var environment = new EnvironmentScope((CheckpointCache.MaxBytesVariable, "100000"));
        var e = await Assert.ThrowsAsync<CheckpointDownloadException>(() =>
            CheckpointDownloader.DownloadAsync($"{server.BaseUrl}/{FileName}", Path.Combine(cache, FileName), Prefix, Options(cache)));
        Assert.Contains("more than 100,000 bytes arrived", e.Message);

        Environment.SetEnvironmentVariable(CheckpointCache.MaxBytesVariable, "4 GB");
        e = await Assert.ThrowsAsync<CheckpointDownloadException>(() =>
            CheckpointDownloader.DownloadAsync($"{server.BaseUrl}/{FileName}", Path.Combine(cache, FileName), Prefix, Options(cache)));
        Assert.Contains("RES2NET_DOWNLOAD_MAX_BYTES is '4 GB'; expected a whole number of bytes greater than 0", e.Message);
        Assert.Single(server.Requests);
        Assert.Empty(Directory.GetFiles(cache));
    }

    [Fact]
    public async Task StalledBodyFailsAtOnceNamingTheUrlAndTheSeconds()
    {
        using var server = new LocalHttpServer((_, _) => new LocalHttpServer.Reply(200, Checkpoint) { StallAfter = 4096 },
            connectionTimeout: TimeSpan.FromSeconds(5));
        string cache = NewCache();
        string url = $"{server.BaseUrl}/{FileName}";
        var clock = Stopwatch.StartNew();

        var e = await Assert.ThrowsAsync<CheckpointDownloadException>(() => CheckpointDownloader.DownloadAsync(
            url, Path.Combine(cache, FileName), Prefix, Options(cache) with { StallTimeout = TimeSpan.FromSeconds(1) }));

        Assert.Contains($"could not download {url}: no data arrived for 1 s after 4,096 of {Checkpoint.Length:N0} bytes", e.Message);
        Assert.Contains("RES2NET_DOWNLOAD_TIMEOUT", e.Message);
        Assert.Single(server.Requests);
        Assert.Empty(Directory.GetFiles(cache));
        // Not a speed measurement: a bound far above the 1 s timeout, far below the retries of the old behaviour.
        Assert.True(clock.Elapsed < TimeSpan.FromSeconds(4.5), $"took {clock.Elapsed}");
    }

    [Fact]
    public async Task ServerThatNeverAnswersFailsAfterTheTimeoutFromTheEnvironment()
    {
        using var server = new LocalHttpServer((_, _) => new LocalHttpServer.Reply(200, Checkpoint) { StallBeforeHeaders = true },
            connectionTimeout: TimeSpan.FromSeconds(5));
        string cache = NewCache();
        string url = $"{server.BaseUrl}/{FileName}";
        using var environment = new EnvironmentScope((CheckpointCache.StallTimeoutVariable, "1"));
        var e = await Assert.ThrowsAsync<CheckpointDownloadException>(() => CheckpointDownloader.DownloadAsync(
            url, Path.Combine(cache, FileName), Prefix, Options(cache) with { StallTimeout = null }));

        Assert.Contains($"could not download {url}: no answer from {url} for 1 s (RES2NET_DOWNLOAD_TIMEOUT", e.Message);
        Assert.Single(server.Requests);
        Assert.Empty(Directory.GetFiles(cache));
    }

    [Theory]
    [InlineData("0")]
    [InlineData("-5")]
    [InlineData("soon")]
    public async Task TimeoutThatIsNotAPositiveNumberIsReported(string value)
    {
        string cache = NewCache();
        using var environment = new EnvironmentScope((CheckpointCache.StallTimeoutVariable, value));
        var e = await Assert.ThrowsAsync<CheckpointDownloadException>(() => CheckpointDownloader.DownloadAsync(
            "http://127.0.0.1:9/" + FileName, Path.Combine(cache, FileName), Prefix, Options(cache) with { StallTimeout = null }));
        Assert.Contains($"RES2NET_DOWNLOAD_TIMEOUT is '{value}'; expected a number of seconds greater than 0", e.Message);
    }
}
