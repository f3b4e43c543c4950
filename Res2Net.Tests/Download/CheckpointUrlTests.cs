using System.Security.Cryptography;
using Res2Net.Cli;
using Res2Net.Runtime.Download;
using Res2Net.Tests.Cli;
using Res2Net.Tests.Datasets;
using Xunit;

namespace Res2Net.Tests.Download;

/// <summary>
/// <c>--checkpoint URL</c> (and convert's <c>IN</c> as a URL) against a server on 127.0.0.1: fetched into the
/// <c>RES2NET_HOME</c> cache under the URL's file name, the sha256 prefix in that name checked, a dropped connection
/// resumed, progress on stderr, the cached copy used next time without a request, and the offline rule obeyed.
/// </summary>
[Collection(ProcessEnvironment.Name)]
public sealed class CheckpointUrlTests : IDisposable
{
    private const string W14 = SeededCheckpoint.Model;

    private readonly string _home = TempFolders.Create("res2net-home-").FullName;

    private string Cache => Path.Combine(_home, "checkpoints");

    public void Dispose() => Directory.Delete(_home, recursive: true);

    private static string Sha256Prefix(byte[] bytes) => Convert.ToHexString(SHA256.HashData(bytes)).ToLowerInvariant()[..8];

    [Fact]
    public void TheSeedsTestCommandRunsWithAUrlCheckpointThenFromTheCache()
    {
        // The seed's `tools/test.py CONFIG https://download.openmmlab.com/.../<name>_20210927-<sha>.pth`, with the seeded
        // weights served from 127.0.0.1 under a name carrying their own sha256 prefix.
        byte[] weights = File.ReadAllBytes(SeededCheckpoint.Path);
        string name = $"{W14}_20210927-{Sha256Prefix(weights)}.safetensors";
        using var server = LocalHttpServer.Serving(new Dictionary<string, byte[]> { ["/mmclassification/v0/res2net/" + name] = weights });
        string url = $"{server.BaseUrl}/mmclassification/v0/res2net/{name}";
        string[] command = ["test", "--model", W14, "--checkpoint", url, "--data", SeededCheckpoint.DemoDir, "--ann-file", DatasetFixtures.AnnFile("seeded")];
        var (_, _, _, top1, top5) = DatasetFixtures.Accuracy("seeded");
        string accuracy = FormattableString.Invariant($"accuracy/top1: {top1:0.0000}  accuracy/top5: {top5:0.0000}");
        string cached = Path.Combine(Cache, name);

        using (new EnvironmentScope((CheckpointCache.HomeVariable, _home)))
        {
            var (code, output, err) = CliTests.Run(command);

            Assert.True(code == 0, err);
            Assert.Contains(accuracy, output);
            Assert.Contains($"downloading {url}\n  to {cached}", err.ReplaceLineEndings("\n"));
            Assert.Contains($"downloaded {weights.Length:N0} bytes, sha256 prefix {Sha256Prefix(weights)} verified", err);
            Assert.Contains($"checkpoint: {cached} (", err);
            Assert.Equal(weights, File.ReadAllBytes(cached));
        }

        // Offline, the cached copy is used and the server is not asked again.
        using (new EnvironmentScope((CheckpointCache.HomeVariable, _home), (CheckpointCache.OfflineVariable, "1")))
        {
            var (code, output, err) = CliTests.Run(command);

            Assert.True(code == 0, err);
            Assert.Contains(accuracy, output);
            Assert.DoesNotContain("downloading", err);
            Assert.Single(server.Requests);

            // bench and export take the URL too, and find it in the cache.
            (code, output, err) = CliTests.Run("bench", "--model", W14, "--checkpoint", url, "--iterations", "1", "--warmup", "0", "--threads", "1");
            Assert.True(code == 0, err);
            Assert.Contains(name, output);
            string onnx = Path.Combine(_home, "w14.onnx");
            (code, output, err) = CliTests.Run("export", "--model", W14, "--checkpoint", url, "--out", onnx);
            Assert.True(code == 0, err);
            Assert.Contains(cached, output.ReplaceLineEndings(""));
            Assert.True(new FileInfo(onnx).Length > weights.Length / 2, "the ONNX model holds the weights");
            Assert.Single(server.Requests);
        }
    }

    [Fact]
    public void PredictFetchesAUrlResumingADroppedConnection()
    {
        byte[] weights = File.ReadAllBytes(SeededCheckpoint.Path);
        string name = $"{W14}-{Sha256Prefix(weights)}.safetensors";
        int half = weights.Length / 2;
        using var server = new LocalHttpServer((request, n) => n == 0
            ? new LocalHttpServer.Reply(200, weights) { CutAfter = half }
            : new LocalHttpServer.Reply(200, weights));
        using var environment = new EnvironmentScope((CheckpointCache.HomeVariable, _home));

        var (code, output, err) = CliTests.Run("predict", Path.Combine(SeededCheckpoint.DemoDir, "dog.jpg"), "--model", W14,
            "--checkpoint", $"{server.BaseUrl}/{name}", "--json");

        Assert.True(code == 0, err);
        Assert.Contains("\"pred_label\"", output);
        Assert.Equal([null, $"bytes={half}-"], server.Requests.Select(r => r.Range));
        Assert.Contains("attempt 2", err);   // the progress lines say the download was resumed
        Assert.Equal([name], Directory.GetFiles(Cache).Select(Path.GetFileName));
    }

    [Fact]
    public void ConvertReadsAUrlThroughTheCache()
    {
        byte[] checkpoint = DownloadTests.Checkpoint;
        using var server = LocalHttpServer.Serving(new Dictionary<string, byte[]> { ["/" + DownloadTests.FileName] = checkpoint });
        string output = Path.Combine(_home, "tiny.safetensors");
        using var environment = new EnvironmentScope((CheckpointCache.HomeVariable, _home));

        var (code, stdout, err) = CliTests.Run("convert", $"{server.BaseUrl}/{DownloadTests.FileName}", output);

        Assert.True(code == 0, err);
        Assert.Contains($"sha256 prefix {DownloadTests.Prefix} verified", err);
        Assert.Contains(Path.Combine(Cache, DownloadTests.FileName), stdout.ReplaceLineEndings(""));
        Assert.True(File.Exists(output));
    }

    [Fact]
    public void AUrlWhoseNameCarriesAnotherHashIsRejectedAndNothingIsKept()
    {
        const string Lying = "tiny-plain_20240101-deadbeef.pth";
        using var server = LocalHttpServer.Serving(new Dictionary<string, byte[]> { ["/" + Lying] = DownloadTests.Checkpoint });
        string output = Path.Combine(_home, "tiny.safetensors");
        using var environment = new EnvironmentScope((CheckpointCache.HomeVariable, _home));

        var (code, stdout, err) = CliTests.Run("convert", $"{server.BaseUrl}/{Lying}", output);

        Assert.Equal(CliApp.UserError, code);
        Assert.StartsWith($"res2net: error: could not download {server.BaseUrl}/{Lying}: invalid hash value (expected \"deadbeef\"",
            err.Split('\n').First(l => l.StartsWith("res2net:", StringComparison.Ordinal)));
        Assert.Empty(stdout);
        Assert.Empty(Directory.GetFiles(Cache));
        Assert.False(File.Exists(output));
    }

    [Fact]
    public void OfflineAUrlNotInTheCacheFailsWithWhereToSaveIt()
    {
        using var server = LocalHttpServer.Serving(new Dictionary<string, byte[]>());
        string url = $"{server.BaseUrl}/{DownloadTests.FileName}";
        using var environment = new EnvironmentScope((CheckpointCache.HomeVariable, _home), (CheckpointCache.OfflineVariable, "1"));

        var (code, _, err) = CliTests.Run("predict", Path.Combine(SeededCheckpoint.DemoDir, "dog.jpg"), "--model", W14, "--checkpoint", url);

        Assert.Equal(CliApp.UserError, code);
        Assert.StartsWith($"res2net: error: could not download {url}: it is not in the cache and downloading is switched off ({CheckpointCache.OfflineVariable})", err);
        Assert.Contains($"save it as\n  {Path.Combine(Cache, DownloadTests.FileName)}", err.ReplaceLineEndings("\n"));
        Assert.Empty(server.Requests);
    }

    [Fact]
    public void ADamagedCachedDownloadIsNamedWithTheAdviceToDeleteIt()
    {
        // In the cache under the URL's name, cut short: taken without a request (offline here), and unreadable.
        string url = $"http://127.0.0.1:1/{DownloadTests.FileName}";
        string cached = Path.Combine(Directory.CreateDirectory(Cache).FullName, DownloadTests.FileName);
        File.WriteAllBytes(cached, DownloadTests.Checkpoint[..(DownloadTests.Checkpoint.Length / 2)]);
        using var environment = new EnvironmentScope((CheckpointCache.HomeVariable, _home), (CheckpointCache.OfflineVariable, "1"));

        var (code, _, err) = CliTests.Run("export", "--model", W14, "--checkpoint", url, "--out", Path.Combine(_home, "m.onnx"));

        Assert.Equal(CliApp.UserError, code);
        Assert.StartsWith($"res2net: error: {cached}: ", err);
        Assert.Contains($"it is the cached download of {url}: delete {cached} and run again to download it afresh", err);
        Assert.True(File.Exists(cached), "the file is left for the user to delete");
    }
}
