using Res2Net.Cli;
using Xunit;

namespace Res2Net.Tests.Cli;

/// <summary>The <c>res2net</c> command run in-process, as a user would call it.</summary>
[Collection(ProcessEnvironment.Name)]
public class CliTests
{
    private const string W14 = "res2net50-w14-s8_3rdparty_8xb32_in1k";

    internal static (int Code, string Out, string Err) Run(params string[] args)
    {
        var stdout = new StringWriter();
        var stderr = new StringWriter();
        int code = CliApp.Run(args, stdout, stderr);
        return (code, stdout.ToString(), stderr.ToString());
    }

    [Fact]
    public void InfoListsTheSeedModelsWithMmpretrainsCounts()
    {
        var (code, output, _) = Run("info");
        Assert.Equal(0, code);
        Assert.Contains(W14, output);
        Assert.Contains("25.06M", output);
        Assert.Contains("4.22G", output);
        Assert.Contains("48.40M", output);
        Assert.Contains("8.39G", output);
        Assert.Contains("45.21M", output);
        Assert.Contains("8.12G", output);
    }

    [Fact]
    public void InfoOnOneModelShowsExactCountsAndTheLayerTable()
    {
        var (code, output, _) = Run("info", W14);
        Assert.Equal(0, code);
        Assert.Contains("25,059,816", output);
        Assert.Contains("4,218,325,520", output);
        Assert.Contains("layer2.0.convs.3", output);
        Assert.Contains("[28, 28, 28]", output);
    }

    [Fact]
    public void UnknownModelListsTheKnownOnes()
    {
        var (code, _, err) = Run("info", "resnet50");
        Assert.Equal(CliApp.UserError, code);
        Assert.Contains("Unknown model 'resnet50'", err);
        Assert.Contains(W14, err);
    }

    [Fact]
    public void PredictWithoutCheckpointSaysWhereToPutIt()
    {
        string home = TempFolders.Create().FullName;
        string input = Path.Combine(home, "x.npy");
        Res2Net.Runtime.IO.Npy.Write(input, new float[3 * 224 * 224], new[] { 1, 3, 224, 224 });
        // Offline: the test must say where to put the file without reaching for the real server.
        Environment.SetEnvironmentVariable("RES2NET_HOME", home);
        Environment.SetEnvironmentVariable("RES2NET_OFFLINE", "1");
        try
        {
            var (code, _, err) = Run("predict", input, "--model", W14);
            Assert.Equal(CliApp.UserError, code);
            Assert.Contains("https://download.openmmlab.com/mmclassification/v0/res2net/res2net50-w14-s8_3rdparty_8xb32_in1k_20210927-bc967bf1.pth", err);
            Assert.Contains("--checkpoint FILE", err);
            Assert.Contains(Path.Combine(home, "checkpoints", "res2net50-w14-s8_3rdparty_8xb32_in1k_20210927-bc967bf1.pth"), err);
        }
        finally
        {
            Environment.SetEnvironmentVariable("RES2NET_HOME", null);
            Environment.SetEnvironmentVariable("RES2NET_OFFLINE", null);
        }
    }

    [Fact]
    public void PredictRejectsAnInputOfTheWrongShapeNamingIt()
    {
        string input = Path.Combine(TempFolders.Create().FullName, "small.npy");
        Res2Net.Runtime.IO.Npy.Write(input, new float[3 * 200 * 200], new[] { 1, 3, 200, 200 });
        var (code, _, err) = Run("predict", input, "--model", W14, "--checkpoint", Fixtures.Path("tiny-plain.pth"));
        Assert.Equal(CliApp.UserError, code);
        Assert.Contains("small.npy: shape [1, 3, 200, 200] does not fit", err);
        Assert.Contains("expected [N, 3, 224, 224]", err);
    }

    [Fact]
    public void PredictWithAnotherNetworksCheckpointListsTheMismatch()
    {
        string input = Path.Combine(TempFolders.Create().FullName, "x.npy");
        Res2Net.Runtime.IO.Npy.Write(input, new float[3 * 224 * 224], new[] { 3, 224, 224 });
        var (code, _, err) = Run("predict", input, "--model", W14, "--checkpoint", Fixtures.Path("tiny-plain.pth"));
        Assert.Equal(CliApp.UserError, code);
        Assert.Contains("the checkpoint does not fit " + W14, err);
        Assert.Contains("mis-shaped", err);
        Assert.Contains("backbone.conv1.weight: expected [64, 3, 7, 7], found [16, 3, 7, 7]", err);
    }

    [Fact]
    public void HelpWinsOverAnUnknownOption()
    {
        var (code, output, err) = Run("predict", "--bogus", "--help");
        Assert.Equal(0, code);
        Assert.Contains("--save-logits", output);
        Assert.Equal("", err);
    }

    [Fact]
    public void HelpDescribesEveryOption()
    {
        var (code, output, _) = Run("predict", "--help");
        Assert.Equal(0, code);
        foreach (var option in new[] { "--model", "--checkpoint", "--topk", "--json", "--save-logits" }) Assert.Contains(option, output);
    }
}
