using System.Text.Json;
using System.Text.Json.Nodes;
using Res2Net.Cli;
using Res2Net.Runtime.Checkpoints;
using Res2Net.Tests.Cli;
using Res2Net.Tests.Forward;
using Xunit;

namespace Res2Net.Tests.Checkpoints;

/// <summary>
/// <c>res2net inspect</c>: on checkpoints PyTorch saved, the spec it writes is the one they were built from, and that
/// spec, compiled, loads the checkpoint and gives PyTorch's logits.
/// </summary>
[Collection(ProcessEnvironment.Name)]
public class InspectCommandTests(InspectedNetworks networks) : IClassFixture<InspectedNetworks>
{
    public static TheoryData<string> Cases => new(InspectFixtures.Cases.Select(c => c.File));

    [Theory]
    [MemberData(nameof(Cases))]
    public void WritesTheSpecPyTorchBuiltTheCheckpointFrom(string file)
    {
        var c = InspectFixtures.Case(file);
        using var truth = JsonDocument.Parse(File.ReadAllText(InspectFixtures.Path("cases.json")));
        var expected = truth.RootElement.GetProperty("cases").EnumerateArray().Single(e => e.GetProperty("file").GetString() == file).GetProperty("spec");

        var written = JsonNode.Parse(networks.Specs[c.Name]);

        Assert.True(JsonNode.DeepEquals(JsonNode.Parse(expected.GetRawText()), written), $"wrote {written}, built from {expected}");
    }

    [Theory]
    [MemberData(nameof(Cases))]
    public void TheWrittenSpecCompiledLoadsTheCheckpointAndGivesPyTorchsLogits(string file)
    {
        var c = InspectFixtures.Case(file);
        var network = networks.Create(c.Name);
        var (input, shape) = Fixtures.Npy("inspect", "input.npy");
        var (expected, expectedShape) = Fixtures.Npy("inspect", c.Name + ".logits.npy");
        Assert.Equal([1, 3, c.InputHeight, c.InputWidth], shape);

        var loaded = network.LoadCheckpoint(c.Path);
        var logits = network.Forward(input, 1);

        Assert.Equal([1, c.Architecture.NumClasses], expectedShape);
        var (diff, _) = Fixtures.Compare(logits, expected);
        Assert.True(diff <= Tolerances.LogitsAbsolute, $"{c.Name} ({loaded.Summary}): max |logit − PyTorch| = {diff:E2} > {Tolerances.LogitsAbsolute:E0}");
    }

    [Fact]
    public void PrintsWhatItFoundAndTheSpec()
    {
        var c = InspectFixtures.Case("b1211-d-w1-s8.timm.pth");
        var (code, output, err) = CliTests.Run("inspect", c.Path);

        Assert.True(code == 0, err);
        Assert.Contains("PyTorch zip (torch >= 1.6), wrapper 'state_dict', 314 tensors", output);
        Assert.Contains("layout         official/timm (deep stem conv1.0-6)", output);
        Assert.Contains("network        res2net blocks [1, 2, 1, 1] w1 s8 with a deep stem and avg_down (v1b), stem channels 6, base channels 2, 7 classes", output);
        Assert.Contains("blocks 1, 2, 1, 1 (not Res2Net-50, 101 or 152: the spec lists them)", output);
        Assert.Contains("deep: three 3×3 convs, 3 → 3 → 3 → 6 channels", output);
        Assert.Contains("layer1 to layer4 output 8, 16, 32, 64", output);
        // Without --spec the spec is printed, named after the file and for 224×224 unless told otherwise.
        var spec = JsonNode.Parse(output[output.IndexOf('{')..])!;
        Assert.Equal("b1211-d-w1-s8.timm", (string?)spec["name"]);
        Assert.Equal("[224,224]", spec["input_size"]!.ToJsonString());
        Assert.Equal("", err);
    }

    [Fact]
    public void NamesTheDepthOfAStandardNetwork()
    {
        var (code, output, _) = CliTests.Run("inspect", InspectFixtures.Case("r101-v1b-w1-s2.official.pth").Path, "--input-size", "256");
        Assert.Equal(0, code);
        Assert.Contains("101: blocks 3, 4, 23, 3", output);
        Assert.Contains("PyTorch legacy (torch < 1.6)", output);
        Assert.Contains("\"input_size\": [256, 256]", output);
        Assert.Contains("\"depth\": 101,", output);
    }

    [Fact]
    public void JsonHoldsTheFindingsAndTheSpec()
    {
        string dir = TempFolders.Create("res2net-inspect-").FullName;
        string spec = Path.Combine(dir, "net.json");
        var c = InspectFixtures.Case("b1121-avgdown-w2-s6.official-module.pth");

        var (code, output, err) = CliTests.Run("inspect", c.Path, "--json", "--spec", spec, "--name", "mine");

        Assert.True(code == 0, err);
        var json = JsonNode.Parse(output)!;
        Assert.Equal(c.Path, (string?)json["checkpoint"]);
        Assert.Equal("official/timm (module. prefix)", (string?)json["layout"]);
        Assert.Equal("none", (string?)json["wrapper"]);
        Assert.Equal(c.Architecture.Description, (string?)json["network"]);
        Assert.Equal(c.Architecture.Params, (long)json["params"]!);
        Assert.Equal(spec, (string?)json["spec_file"]);
        Assert.True(JsonNode.DeepEquals(JsonNode.Parse(File.ReadAllText(spec)), json["spec"]));
        Assert.Equal("mine", (string?)json["spec"]!["name"]);
    }

    [Fact]
    public void AnExistingSpecIsReplacedAnyOtherFileOnlyWithForce()
    {
        string dir = TempFolders.Create("res2net-inspect-").FullName;
        string spec = Path.Combine(dir, "net.json");
        string checkpoint = InspectFixtures.Case("b1111-w1-s7.mmpretrain.safetensors").Path;
        File.WriteAllText(spec, "{ \"name\": \"old\", \"depth\": 50, \"base_width\": 26, \"scales\": 4, \"num_classes\": 10, \"input_size\": [224, 224] }");

        Assert.Equal(0, CliTests.Run("inspect", checkpoint, "--spec", spec).Code);
        Assert.Contains("\"scales\": 7", File.ReadAllText(spec));

        string notes = Path.Combine(dir, "notes.json");
        File.WriteAllText(notes, "[\"my notes\"]");
        var (code, _, err) = CliTests.Run("inspect", checkpoint, "--spec", notes);
        Assert.Equal(CliApp.UserError, code);
        Assert.Contains($"{notes}: already exists and is not a network spec", err);
        Assert.Equal("[\"my notes\"]", File.ReadAllText(notes));
        Assert.Equal(0, CliTests.Run("inspect", checkpoint, "--spec", notes, "--force").Code);
        Assert.Contains("\"blocks\": [1, 1, 1, 1]", File.ReadAllText(notes));
        Assert.Equal(["net.json", "notes.json"], Directory.GetFiles(dir).Select(Path.GetFileName).Order());
    }

    [Fact]
    public void TheSpecMayNotBeTheCheckpointThroughALink()
    {
        string dir = TempFolders.Create("res2net-inspect-").FullName;
        string checkpoint = Path.Combine(dir, "model.pth");
        File.Copy(InspectFixtures.Case("b1211-d-w1-s8.timm.pth").Path, checkpoint);
        string link = Path.Combine(dir, "spec.json");
        File.CreateSymbolicLink(link, checkpoint);

        var (code, _, err) = CliTests.Run("inspect", checkpoint, "--spec", link, "--force");

        Assert.Equal(CliApp.UserError, code);
        Assert.Contains("is also an input of this command", err);
        using var file = CheckpointFile.Open(checkpoint);   // untouched
        Assert.Equal(314, file.StateDict.Count);
    }

    [Fact]
    public void ANameTheFileCannotGiveFallsBackToTheArchitecturesName()
    {
        string dir = TempFolders.Create("res2net-inspect-").FullName;
        string checkpoint = Path.Combine(dir, "model\u001b[31m.pth");
        File.Copy(InspectFixtures.Case("r50-plain-w1-s4.mmpretrain.pth").Path, checkpoint);

        var (code, output, _) = CliTests.Run("inspect", checkpoint, "--json");

        Assert.Equal(0, code);
        Assert.Equal("res2net50-w1-s4", (string?)JsonNode.Parse(output)!["spec"]!["name"]);
    }
}
