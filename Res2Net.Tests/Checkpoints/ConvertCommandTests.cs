using Res2Net.Cli;
using Res2Net.Cli.Commands;
using Res2Net.Runtime.Checkpoints;
using Res2Net.Runtime.Download;
using Res2Net.Tests.Download;
using Xunit;

namespace Res2Net.Tests.Checkpoints;

/// <summary><c>res2net convert</c>, and how the CLI finds, downloads and reports checkpoints.</summary>
// Downloads read RES2NET_OFFLINE, RES2NET_DOWNLOAD_TIMEOUT and RES2NET_DOWNLOAD_MAX_BYTES, which other tests set.
[Collection(ProcessEnvironment.Name)]
public class ConvertCommandTests
{
    private static (int Code, string Out, string Err) Run(params string[] args)
    {
        var stdout = new StringWriter();
        var stderr = new StringWriter();
        int code = CliApp.Run(args, stdout, stderr);
        return (code, stdout.ToString(), stderr.ToString());
    }

    private static float[] Logits(string network, string checkpoint)
    {
        var net = Networks.Res2NetModels.Create(network);
        net.LoadCheckpoint(checkpoint);
        return net.Forward(Fixtures.Npy(network + ".input.npy").Data, 2);
    }

    [Fact]
    public void LegacyOfficialFileBecomesSafetensorsWithTheSameWeights()
    {
        string dir = TempFolders.Create("res2net-convert-").FullName;
        string output = Path.Combine(dir, "plain.safetensors");
        string input = Samples.Path("tiny-plain.official.legacy.pth");

        var (code, stdout, _) = Run("convert", input, output);

        Assert.Equal(0, code);
        Assert.Contains("PyTorch legacy (torch < 1.6)", stdout);
        Assert.Contains("wrapper  none", stdout);
        Assert.Contains("layout   official/timm", stdout);
        Assert.Contains("182 (Float32 152, Int64 30)", stdout);
        Assert.Contains("kept as in the input", stdout);
        using (var file = CheckpointFile.Open(output))
        {
            Assert.Equal(CheckpointFormat.Safetensors, file.Format);
            Assert.Equal("official", file.Layout.Name);
            Assert.Equal("tiny-plain.official.legacy.pth", file.Metadata["source"]);
            Assert.Equal("pt", file.Metadata["format"]);
        }
        Assert.Equal(Logits("tiny-plain", Fixtures.Path("tiny-plain.pth")), Logits("tiny-plain", output));
        Assert.Equal(["plain.safetensors"], Directory.GetFiles(dir).Select(Path.GetFileName));
    }

    [Fact]
    public void KeysCanBeRenamedToMmpretrains()
    {
        string output = Path.Combine(TempFolders.Create("res2net-convert-").FullName, "deep.safetensors");
        var (code, stdout, _) = Run("convert", Samples.Path("tiny-deep.official-module.legacy.pth"), output, "--mmpretrain-keys");

        Assert.Equal(0, code);
        Assert.Contains("wrapper  model", stdout);
        Assert.Contains("official/timm (deep stem conv1.0-6, module. prefix)", stdout);
        Assert.Contains("renamed to mmpretrain's layout", stdout);
        var converted = CheckpointReader.Read(output);
        Assert.Equal(CheckpointReader.Read(Fixtures.Path("tiny-deep.pth")).Keys, converted.Keys);
        Assert.Equal("mmpretrain", converted.Layout.Description);
        Assert.Equal(Logits("tiny-deep", Fixtures.Path("tiny-deep.pth")), Logits("tiny-deep", output));
    }

    [Fact]
    public void BadInputIsAnErrorAndWritesNothing()
    {
        string dir = TempFolders.Create("res2net-convert-").FullName;
        string hostile = Path.Combine(dir, "hostile.pth");
        File.WriteAllBytes(hostile, PyTorchSamples.LegacyProtocol2[..500]);
        string output = Path.Combine(dir, "out.safetensors");

        var (code, _, err) = Run("convert", hostile, output);
        Assert.Equal(CliApp.UserError, code);
        Assert.StartsWith($"res2net: error: {hostile}: ", err);
        Assert.False(File.Exists(output));

        (code, _, err) = Run("convert", Fixtures.Path("tiny-plain.pth"), Path.Combine(dir, "out.pth"));
        Assert.Equal(CliApp.UserError, code);
        Assert.Contains("OUT must be a .safetensors file", err);
        Assert.Equal(["hostile.pth"], Directory.GetFiles(dir).Select(Path.GetFileName));
    }

    [Fact]
    public void PredictSaysWhichFormatAndLayoutItLoaded()
    {
        var network = Networks.Res2NetModels.Create("tiny-deep");
        var stderr = new StringWriter();
        var result = CheckpointLocator.Load(network, new FileInfo(Samples.Path("tiny-deep.official.safetensors")), stderr);
        Assert.Equal(CheckpointFormat.Safetensors, result.Format);
        Assert.Contains("(safetensors, wrapper 'none', layout official/timm (deep stem conv1.0-6), 164 tensors)", stderr.ToString());
    }

    [Fact]
    public void MissingCheckpointIsDownloadedWithProgressOnStderr()
    {
        byte[] checkpoint = File.ReadAllBytes(Fixtures.Path("tiny-plain.pth"));
        string prefix = Convert.ToHexString(System.Security.Cryptography.SHA256.HashData(checkpoint)).ToLowerInvariant()[..8];
        string name = $"tiny-plain-{prefix}.pth";
        using var server = LocalHttpServer.Serving(new Dictionary<string, byte[]> { ["/" + name] = checkpoint });
        var info = Networks.Res2NetModels.Create("tiny-plain").Info with { CheckpointUrl = "https://example.invalid/" + name, CheckpointSha256 = prefix };
        string cache = TempFolders.Create("res2net-cache-").FullName;
        var options = new PretrainedOptions { CacheDirectory = cache, DownloadBaseUrl = server.BaseUrl };
        var stderr = new StringWriter();

        string path = CheckpointLocator.Resolve(info, null, stderr, options);

        Assert.Equal(Path.Combine(cache, name), path);
        Assert.Contains($"downloading {server.BaseUrl}/{name}\n  to {path}", stderr.ToString().ReplaceLineEndings("\n"));
        Assert.Contains($"downloaded {checkpoint.Length:N0} bytes, sha256 prefix {prefix} verified", stderr.ToString());
        Assert.Equal(path, CheckpointLocator.Resolve(info, null, new StringWriter(), options));
        Assert.Single(server.Requests);
    }

    [Fact]
    public void FailedDownloadNamesTheUrlThePathAndTheOption()
    {
        using var server = LocalHttpServer.Serving(new Dictionary<string, byte[]>());
        var info = Res2Net.Models.Res2NetModels.All.Single(m => m.Name.StartsWith("res2net50-w14", StringComparison.Ordinal));
        string cache = TempFolders.Create("res2net-cache-").FullName;
        var options = new PretrainedOptions { CacheDirectory = cache, DownloadBaseUrl = server.BaseUrl + "/mirror" };
        string file = Path.GetFileName(new Uri(info.CheckpointUrl!).LocalPath);

        var e = Assert.Throws<CliException>(() => CheckpointLocator.Resolve(info, null, new StringWriter(), options));

        Assert.Contains($"{server.BaseUrl}/mirror/{file}: the server answered 404 Not Found", e.Message);
        Assert.Contains(Path.Combine(cache, file), e.Message);
        Assert.Contains("--checkpoint FILE", e.Message);
        Assert.Empty(Directory.GetFiles(cache));
    }
}
