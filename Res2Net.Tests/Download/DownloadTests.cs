using System.Net;
using System.Net.Sockets;
using System.Security.Cryptography;
using Res2Net.Runtime.Checkpoints;
using Res2Net.Runtime.Download;
using Res2Net.Tests.Checkpoints;
using Xunit;

namespace Res2Net.Tests.Download;

/// <summary>
/// Pretrained download against a real HTTP server on 127.0.0.1 (<see cref="LocalHttpServer"/>): success, wrong hash,
/// connections cut midway (resumed with Range, or given up on cleanly), a server that ignores Range, 404, nothing
/// listening, and the cache answering a second call without a request. After a failure the cache folder holds nothing.
/// </summary>
[Collection(ProcessEnvironment.Name)]
public class DownloadTests
{
    internal static readonly byte[] Checkpoint = File.ReadAllBytes(Fixtures.Path("tiny-plain.pth"));

    /// <summary>The sha256 prefix torch.hub expects in the file name.</summary>
    internal static readonly string Prefix = Convert.ToHexString(SHA256.HashData(Checkpoint)).ToLowerInvariant()[..8];

    internal static readonly string FileName = $"tiny-plain_20240101-{Prefix}.pth";

    internal static string NewCache() => TempFolders.Create("res2net-cache-").FullName;

    internal static PretrainedOptions Options(string cache, List<DownloadProgress>? progress = null) => new()
    {
        CacheDirectory = cache,
        RetryDelay = TimeSpan.FromMilliseconds(10),
        StallTimeout = TimeSpan.FromSeconds(20),
        Progress = progress == null ? null : new Collect(progress),
    };

    private sealed class Collect(List<DownloadProgress> into) : IProgress<DownloadProgress>
    {
        public void Report(DownloadProgress value)
        {
            lock (into) into.Add(value);
        }
    }

    [Fact]
    public async Task DownloadLandsUnderTheFinalNameOnlyWhenComplete()
    {
        using var server = LocalHttpServer.Serving(new Dictionary<string, byte[]> { ["/ckpt/" + FileName] = Checkpoint });
        string cache = NewCache();
        var progress = new List<DownloadProgress>();
        string target = Path.Combine(cache, FileName);

        await CheckpointDownloader.DownloadAsync($"{server.BaseUrl}/ckpt/{FileName}", target, Prefix, Options(cache, progress));

        Assert.Equal(Checkpoint, await File.ReadAllBytesAsync(target));
        Assert.Equal([FileName], Directory.GetFiles(cache).Select(Path.GetFileName));
        Assert.Single(server.Requests);
        Assert.Null(server.Requests[0].Range);
        Assert.Equal(new DownloadProgress($"{server.BaseUrl}/ckpt/{FileName}", Checkpoint.Length, Checkpoint.Length, 1), progress[^1]);
        Assert.True(progress.Count > 1, "progress is reported as the bytes arrive");
        Assert.Equal(progress.Select(p => p.BytesReceived).Order(), progress.Select(p => p.BytesReceived));
    }

    [Fact]
    public async Task WrongHashIsRejectedAndNothingIsKept()
    {
        const string Lying = "tiny-plain_20240101-deadbeef.pth";
        using var server = LocalHttpServer.Serving(new Dictionary<string, byte[]> { ["/" + Lying] = Checkpoint });
        string cache = NewCache();
        string url = $"{server.BaseUrl}/{Lying}";
        string target = Path.Combine(cache, Lying);

        var e = await Assert.ThrowsAsync<CheckpointDownloadException>(() =>
            CheckpointDownloader.DownloadAsync(url, target, CheckpointCache.HashPrefix(Lying), Options(cache)));

        Assert.Contains($"invalid hash value (expected \"deadbeef\", got \"{Prefix}", e.Message);
        Assert.Contains(url, e.Message);
        Assert.Contains(target, e.Message);
        Assert.Equal(target, e.TargetPath);
        Assert.Empty(Directory.GetFiles(cache));
    }

    [Fact]
    public async Task ConnectionCutMidwayIsResumedWithARangeRequest()
    {
        int half = Checkpoint.Length / 2;
        using var server = new LocalHttpServer((request, n) => n == 0
            ? new LocalHttpServer.Reply(200, Checkpoint) { CutAfter = half }
            : new LocalHttpServer.Reply(200, Checkpoint));
        string cache = NewCache();
        var progress = new List<DownloadProgress>();
        string target = Path.Combine(cache, FileName);

        await CheckpointDownloader.DownloadAsync($"{server.BaseUrl}/{FileName}", target, Prefix, Options(cache, progress));

        Assert.Equal(Checkpoint, await File.ReadAllBytesAsync(target));
        Assert.Equal([null, $"bytes={half}-"], server.Requests.Select(r => r.Range));
        Assert.Equal(2, progress[^1].Attempt);
        Assert.Equal([FileName], Directory.GetFiles(cache).Select(Path.GetFileName));
        // The resumed file is the real one: it loads.
        Assert.Equal(CheckpointFormat.TorchZip, CheckpointReader.Read(target).Format);
    }

    [Fact]
    public async Task ServerThatIgnoresRangeIsReadAgainFromTheStart()
    {
        using var server = new LocalHttpServer((request, n) => n == 0
            ? new LocalHttpServer.Reply(200, Checkpoint) { CutAfter = 1000 }
            : new LocalHttpServer.Reply(200, Checkpoint) { IgnoreRange = true });
        string cache = NewCache();
        string target = Path.Combine(cache, FileName);

        await CheckpointDownloader.DownloadAsync($"{server.BaseUrl}/{FileName}", target, Prefix, Options(cache));

        Assert.Equal(Checkpoint, await File.ReadAllBytesAsync(target));
        Assert.Equal("bytes=1000-", server.Requests[1].Range);
    }

    [Fact]
    public async Task ConnectionThatKeepsDroppingFailsCleanly()
    {
        using var server = new LocalHttpServer((_, _) => new LocalHttpServer.Reply(200, Checkpoint) { CutAfter = 4096 });
        string cache = NewCache();
        string url = $"{server.BaseUrl}/{FileName}";
        string target = Path.Combine(cache, FileName);
        var options = new PretrainedOptions { CacheDirectory = cache, RetryDelay = TimeSpan.FromMilliseconds(1), MaxAttempts = 3 };

        var e = await Assert.ThrowsAsync<CheckpointDownloadException>(() => CheckpointDownloader.DownloadAsync(url, target, Prefix, options));

        Assert.Contains("gave up after 3 attempts", e.Message);
        Assert.Contains(url, e.Message);
        Assert.Contains(target, e.Message);
        Assert.Equal(3, server.Requests.Count);
        Assert.Equal([null, "bytes=4096-", "bytes=8192-"], server.Requests.Select(r => r.Range));
        Assert.Empty(Directory.GetFiles(cache));
    }

    [Fact]
    public async Task NotFoundIsNotRetriedAndSaysWhereToPutTheFile()
    {
        using var server = LocalHttpServer.Serving(new Dictionary<string, byte[]>());
        string cache = NewCache();
        string url = $"{server.BaseUrl}/missing/{FileName}";
        string target = Path.Combine(cache, FileName);

        var e = await Assert.ThrowsAsync<CheckpointDownloadException>(() => CheckpointDownloader.DownloadAsync(url, target, Prefix, Options(cache)));

        Assert.Equal($"could not download {url}: the server answered 404 Not Found\nDownload it by hand and save it as\n  {target}", e.Message);
        Assert.Single(server.Requests);
        Assert.Empty(Directory.GetFiles(cache));
    }

    [Fact]
    public async Task NothingListeningIsReportedWithoutRetrying()
    {
        var probe = new TcpListener(IPAddress.Loopback, 0);
        probe.Start();
        int port = ((IPEndPoint)probe.LocalEndpoint).Port;
        probe.Stop();
        string cache = NewCache();
        string url = $"http://127.0.0.1:{port}/{FileName}";
        string target = Path.Combine(cache, FileName);
        var options = Options(cache) with { };

        var e = await Assert.ThrowsAsync<CheckpointDownloadException>(() => CheckpointDownloader.DownloadAsync(url, target, Prefix, options));

        Assert.Contains(url, e.Message);
        Assert.Contains(target, e.Message);
        Assert.Contains("refused", e.Message, StringComparison.OrdinalIgnoreCase);
        Assert.DoesNotContain("attempts", e.Message);
        Assert.Empty(Directory.GetFiles(cache));
    }

    [Fact]
    public async Task SecondCallIsServedFromTheCacheWithoutARequest()
    {
        using var server = LocalHttpServer.Serving(new Dictionary<string, byte[]> { ["/mirror/" + FileName] = Checkpoint });
        var network = Networks.Res2NetModels.Create("tiny-plain");
        var info = network.Info with { CheckpointUrl = "https://example.invalid/res2net/" + FileName, CheckpointSha256 = Prefix };
        string cache = NewCache();
        var options = Options(cache) with { DownloadBaseUrl = server.BaseUrl + "/mirror/" };

        Assert.Equal($"{server.BaseUrl}/mirror/{FileName}", PretrainedCheckpoints.Url(info, options));
        string first = await PretrainedCheckpoints.EnsureAsync(info, options);
        string second = await PretrainedCheckpoints.EnsureAsync(info, options);

        Assert.Equal(Path.Combine(cache, FileName), first);
        Assert.Equal(first, second);
        Assert.Single(server.Requests);

        var result = network.LoadCheckpoint(first);
        Assert.Equal("mmpretrain", result.Layout.Name);
        var (input, _) = Fixtures.Npy("tiny-plain.input.npy");
        var reference = Networks.Res2NetModels.Create("tiny-plain");
        reference.LoadCheckpoint(Fixtures.Path("tiny-plain.pth"));
        Assert.Equal(reference.Forward(input, 2), network.Forward(input, 2));
    }

    [Fact]
    public async Task CacheOnlyModeNamesTheUrlAndThePath()
    {
        var info = Networks.Res2NetModels.Create("tiny-plain").Info with { CheckpointUrl = "https://example.invalid/res2net/" + FileName };
        string cache = NewCache();
        var e = await Assert.ThrowsAsync<CheckpointDownloadException>(() =>
            PretrainedCheckpoints.EnsureAsync(info, new PretrainedOptions { CacheDirectory = cache, AllowDownload = false }));
        Assert.Equal("https://example.invalid/res2net/" + FileName, e.Url);
        Assert.Equal(Path.Combine(cache, FileName), e.TargetPath);
        Assert.Contains("downloading is switched off", e.Message);
    }

    internal const string W14 = "res2net50-w14-s8_3rdparty_8xb32_in1k";

    internal static string W14File => Path.GetFileName(new Uri(Res2Net.Models.Res2NetModels.Create(W14).Info.CheckpointUrl!).LocalPath);

    [Fact]
    public void GetWithoutPretrainedReturnsAnUnloadedNetwork()
    {
        var network = Res2Net.Models.Res2NetModels.Get(W14);
        Assert.False(network.IsLoaded);
        Assert.Equal(W14, network.Info.Name);
    }

    [Fact]
    public void GetPretrainedFetchesTheSpecsFileAndRejectsOneWithTheWrongHash()
    {
        // The server has a file under the real name, but not the real content: its sha256 cannot start with bc967bf1.
        using var server = LocalHttpServer.Serving(new Dictionary<string, byte[]> { ["/mirror/" + W14File] = Checkpoint });
        string cache = NewCache();
        var options = Options(cache) with { DownloadBaseUrl = server.BaseUrl + "/mirror" };

        var e = Assert.Throws<CheckpointDownloadException>(() => Res2Net.Models.Res2NetModels.Get(W14, pretrained: true, options));

        Assert.Equal($"{server.BaseUrl}/mirror/{W14File}", e.Url);
        Assert.Equal(Path.Combine(cache, W14File), e.TargetPath);
        Assert.Contains("invalid hash value (expected \"bc967bf1\"", e.Message);
        Assert.Single(server.Requests);
        Assert.Empty(Directory.GetFiles(cache));
    }

    [Fact]
    public void GetPretrainedUsesAFilePlacedInTheCacheByHand()
    {
        using var server = LocalHttpServer.Serving(new Dictionary<string, byte[]>());
        string cache = NewCache();
        File.Copy(Fixtures.Path("tiny-plain.pth"), Path.Combine(cache, W14File));
        var options = Options(cache) with { DownloadBaseUrl = server.BaseUrl };

        // The tiny network's weights do not fit res2net50: proof that the cached file was read, with no request made.
        var e = Assert.Throws<Res2Net.Runtime.Binding.StateDictMismatchException>(() => Res2Net.Models.Res2NetModels.Get(W14, pretrained: true, options));
        Assert.StartsWith(Path.Combine(cache, W14File) + ": the checkpoint does not fit " + W14, e.Message);
        Assert.Empty(server.Requests);
    }

    [Theory]
    [InlineData("res2net50-w14-s8_3rdparty_8xb32_in1k_20210927-bc967bf1.pth", "bc967bf1")]
    [InlineData("resnet18-f37072fd.pth", "f37072fd")]
    [InlineData("weights.pth", null)]
    [InlineData("model-v2.pth", null)]
    [InlineData("a-.pth", null)]
    public void HashPrefixIsFoundAsTorchHubFindsIt(string fileName, string? prefix) =>
        Assert.Equal(prefix, CheckpointCache.HashPrefix(fileName));

    [Fact]
    public void FileNamesComeFromTheUrlPath()
    {
        Assert.Equal("a b.pth", CheckpointCache.FileName("https://host/x/a%20b.pth?token=1"));
        Assert.Throws<ArgumentException>(() => CheckpointCache.FileName("https://host/dir/"));
        Assert.Throws<ArgumentException>(() => CheckpointCache.FileName("file:///etc/passwd"));
        Assert.Equal("http://mirror/w/a.pth", CheckpointCache.Resolve("https://host/x/a.pth", "http://mirror/w/"));
        Assert.Equal("https://host/x/a.pth", CheckpointCache.Resolve("https://host/x/a.pth", null));
    }
}
