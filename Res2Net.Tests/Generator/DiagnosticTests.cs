using Microsoft.CodeAnalysis;
using Xunit;

namespace Res2Net.Tests.Generator;

/// <summary>Each spec error the generator knows is reported with its id, at the offending JSON token.</summary>
public class DiagnosticTests
{
    private const string Valid = """
        {
          "name": "net",
          "depth": 50,
          "base_width": 26,
          "scales": 4,
          "stem": "plain",
          "avg_down": false,
          "num_classes": 10,
          "input_size": [224, 224]
        }
        """;

    private static Diagnostic Single(string json, string id)
    {
        var result = GeneratorRunner.Run(("/specs/net.json", json));
        var diagnostics = result.Diagnostics;
        Assert.True(diagnostics.Length == 1, $"expected one diagnostic, got: {string.Join("; ", diagnostics)}");
        var d = diagnostics[0];
        Assert.Equal(id, d.Id);
        Assert.Equal(DiagnosticSeverity.Error, d.Severity);
        Assert.Equal("/specs/net.json", d.Location.GetLineSpan().Path);
        Assert.Empty(result.GeneratedTrees.Where(t => t.FilePath.EndsWith("Net.g.cs", StringComparison.Ordinal)));
        return d;
    }

    /// <summary>The (line, column), both 0-based, where the diagnostic starts, and the text it covers.</summary>
    private static (int Line, int Column, string Text) Where(Diagnostic d, string json)
    {
        var span = d.Location.GetLineSpan().StartLinePosition;
        return (span.Line, span.Character, json.Substring(d.Location.SourceSpan.Start, d.Location.SourceSpan.Length));
    }

    [Fact]
    public void ValidSpecHasNoDiagnosticsAndEmitsItsClass()
    {
        var result = GeneratorRunner.Run(("/specs/net.json", Valid));
        Assert.Empty(result.Diagnostics);
        Assert.Contains(result.GeneratedTrees, t => t.FilePath.EndsWith("Net.g.cs", StringComparison.Ordinal));
    }

    [Fact]
    public void MalformedJsonPointsAtTheBadCharacter()
    {
        string json = Valid.Replace("\"scales\": 4,", "\"scales\": 4,,");
        var d = Single(json, "RN0001");
        var (line, column, text) = Where(d, json);
        Assert.Equal((4, 14, ","), (line, column, text));
        Assert.Contains("\"net.json\" is not valid JSON", d.GetMessage());
    }

    [Fact]
    public void UnknownFieldPointsAtItsName()
    {
        string json = Valid.Replace("\"scales\": 4,", "\"scales\": 4,\n  \"scale\": 4,");
        var d = Single(json, "RN0002");
        Assert.Equal((5, 2, "\"scale\""), Where(d, json));
        Assert.Contains("'scale'", d.GetMessage());
        Assert.Contains("scales", d.GetMessage());
    }

    [Fact]
    public void MissingFieldIsReportedAtTheObject()
    {
        string json = Valid.Replace("  \"num_classes\": 10,\n", "");
        var d = Single(json, "RN0003");
        Assert.Equal((0, 0, "{"), Where(d, json));
        Assert.Contains("'num_classes'", d.GetMessage());
    }

    [Fact]
    public void WrongTypePointsAtTheValue()
    {
        string json = Valid.Replace("\"base_width\": 26", "\"base_width\": \"26\"");
        var d = Single(json, "RN0004");
        Assert.Equal((3, 16, "\"26\""), Where(d, json));
        Assert.Contains("must be an integer, but is a string", d.GetMessage());
    }

    [Fact]
    public void FractionalNumberIsNotAnInteger()
    {
        string json = Valid.Replace("\"num_classes\": 10", "\"num_classes\": 10.5");
        var d = Single(json, "RN0004");
        Assert.Equal("10.5", Where(d, json).Text);
    }

    [Fact]
    public void DepthOutsideTheTableIsRejected()
    {
        string json = Valid.Replace("\"depth\": 50", "\"depth\": 34");
        var d = Single(json, "RN0005");
        Assert.Equal((2, 11, "34"), Where(d, json));
        Assert.Contains("50, 101 or 152", d.GetMessage());
    }

    [Fact]
    public void ScalesBelowTwoIsRejected()
    {
        string json = Valid.Replace("\"scales\": 4", "\"scales\": 1");
        var d = Single(json, "RN0006");
        Assert.Equal((4, 12, "1"), Where(d, json));
    }

    [Fact]
    public void WidthThatFloorsToZeroIsRejected()
    {
        string json = Valid.Replace("\"base_width\": 26", "\"base_width\": 0");
        var d = Single(json, "RN0007");
        Assert.Equal((3, 16, "0"), Where(d, json));
        Assert.Contains("0 channels per split", d.GetMessage());
    }

    [Fact]
    public void InputSmallerThanTheTotalStrideIsRejected()
    {
        string json = Valid.Replace("[224, 224]", "[224, 16]");
        var d = Single(json, "RN0008");
        Assert.Equal((8, 16, "[224, 16]"), Where(d, json));
        Assert.Contains("at least 32", d.GetMessage());
    }

    [Fact]
    public void BadStemValueIsRejected()
    {
        string json = Valid.Replace("\"plain\"", "\"resnet\"");
        var d = Single(json, "RN0009");
        Assert.Equal("\"resnet\"", Where(d, json).Text);
        Assert.Contains("\"plain\" or \"deep\"", d.GetMessage());
    }

    [Fact]
    public void DuplicateFieldIsRejected()
    {
        string json = Valid.Replace("\"scales\": 4,", "\"scales\": 4,\n  \"scales\": 8,");
        var d = Single(json, "RN0011");
        Assert.Equal((5, 2, "\"scales\""), Where(d, json));
    }

    [Fact]
    public void EveryProblemInOneFileIsReported()
    {
        string json = Valid.Replace("\"depth\": 50", "\"depth\": 34").Replace("\"scales\": 4", "\"scales\": 1");
        var result = GeneratorRunner.Run(("/specs/net.json", json));
        Assert.Equal(new[] { "RN0005", "RN0006" }, result.Diagnostics.Select(d => d.Id).OrderBy(x => x));
    }

    [Fact]
    public void TwoSpecsWithOneNameAreReported()
    {
        var result = GeneratorRunner.Run(("/specs/a.json", Valid), ("/specs/b.json", Valid));
        var d = Assert.Single(result.Diagnostics);
        Assert.Equal("RN0010", d.Id);
        Assert.Equal("/specs/b.json", d.Location.GetLineSpan().Path);
        Assert.Equal((1, 10, "\"net\""), Where(d, Valid));
        Assert.Contains("The name \"net\" is already used by \"a.json\" as its name", d.GetMessage());
        Assert.Single(result.GeneratedTrees, t => t.FilePath.EndsWith("A.g.cs", StringComparison.Ordinal));
    }

    [Fact]
    public void TwoFilesGivingOneClassNameAreReportedAtTheObject()
    {
        string b = Valid.Replace("\"name\": \"net\"", "\"name\": \"other\"");
        var result = GeneratorRunner.Run(("/specs/a/net.json", Valid), ("/specs/b/net.json", b));
        var d = Assert.Single(result.Diagnostics);
        Assert.Equal("RN0010", d.Id);
        Assert.Equal("/specs/b/net.json", d.Location.GetLineSpan().Path);
        Assert.Equal((0, 0, "{"), Where(d, b));
        Assert.Contains("The class name (taken from the file name; set 'class_name') \"Net\" is already used by \"net.json\" as its class name", d.GetMessage());
    }

    [Fact]
    public void ClassNamesMustNameEveryClass()
    {
        string json = Valid.Replace("\"num_classes\": 10,", "\"num_classes\": 10,\n  \"class_names\": [\"cat\", \"dog\"],");
        var d = Single(json, "RN0009");
        Assert.Equal("[\"cat\", \"dog\"]", Where(d, json).Text);
        Assert.Contains("each of the 10 classes", d.GetMessage());
    }

    [Fact]
    public void NormalizationNeedsThreePositiveStds()
    {
        string json = Valid.Replace("\"num_classes\": 10,", "\"num_classes\": 10,\n  \"preprocess\": { \"std\": [58.4, 0, 57.4] },");
        var d = Single(json, "RN0009");
        Assert.Equal("0", Where(d, json).Text);
        Assert.Contains("preprocess.std[1]", d.GetMessage());
    }

    [Fact]
    public void ResizeEdgeSmallerThanTheCropIsRejected()
    {
        string json = Valid.Replace("\"num_classes\": 10,", "\"num_classes\": 10,\n  \"preprocess\": { \"resize_edge\": 200 },");
        var d = Single(json, "RN0009");
        Assert.Equal("200", Where(d, json).Text);
        Assert.Contains("center crop fits", d.GetMessage());
    }

    [Theory]
    [InlineData("\\n", 0x000A)]
    [InlineData("\\r", 0x000D)]
    [InlineData("\\u0085", 0x0085)]
    [InlineData("\\u2028", 0x2028)]
    [InlineData("\\u2029", 0x2029)]
    [InlineData("\\u001b[31m", 0x001B)]
    [InlineData("\\u202e", 0x202E)]
    [InlineData("\\ud800", 0xD800)]
    public void NameWithALineBreakOrControlIsRefusedAtItsValue(string escaped, int code)
    {
        string json = Valid.Replace("\"name\": \"net\"", $"\"name\": \"ne{escaped}t\"");
        var d = Single(json, "RN0009");
        Assert.Equal((1, 10, $"\"ne{escaped}t\""), Where(d, json));
        Assert.Contains($"U+{code:X4} at character 2", d.GetMessage());
        Assert.DoesNotContain(d.GetMessage(), c => char.IsControl(c) || c is '\u2028' or '\u2029' or '\u202e');
    }

    [Fact]
    public void ClassLabelWithALineBreakIsRefusedAtTheLabel()
    {
        string json = Valid.Replace("\"num_classes\": 10,", "\"num_classes\": 2,\n  \"class_names\": [\"cat\", \"d\\u2028og\"],");
        var d = Single(json, "RN0009");
        Assert.Equal("\"d\\u2028og\"", Where(d, json).Text);
        Assert.Contains("class_names[1]", d.GetMessage());
    }

    [Theory]
    [InlineData("class", "not a keyword")]
    [InlineData("record", "not a keyword")]
    [InlineData("Net\u00e9", "ASCII letters")]
    [InlineData("Net Work", "ASCII letters")]
    [InlineData("1Net", "not starting with a digit")]
    [InlineData("Res2NetModels", "does not already use")]
    [InlineData("CompiledNetwork", "does not already use")]
    [InlineData("Gemm", "does not already use")]
    [InlineData("Description", "does not already use")]
    [InlineData("Conv1", "the method of layer conv1")]
    [InlineData("Layer1_0_Convs_2", "the method of layer layer1.0.convs.2")]
    public void ClassNameThatCannotNameTheClassIsRefusedAtItsValue(string className, string expected)
    {
        string json = Valid.Replace("\"name\": \"net\",", $"\"name\": \"net\",\n  \"class_name\": \"{className}\",");
        var d = Single(json, "RN0009");
        Assert.Equal((2, 16, $"\"{className}\""), Where(d, json));
        Assert.Contains(expected, d.GetMessage());
    }

    [Fact]
    public void ClassNameTakenFromTheFileNameIsCheckedToo()
    {
        var result = GeneratorRunner.Run(("/specs/res2net-models.json", Valid));
        var d = Assert.Single(result.Diagnostics);
        Assert.Equal("RN0009", d.Id);
        Assert.Equal((0, 0, "{"), Where(d, Valid));
        Assert.Contains("class_name (taken from the file name)", d.GetMessage());
        Assert.Contains("\"Res2NetModels\"", d.GetMessage());
        Assert.Contains("set 'class_name'", d.GetMessage());
    }

    [Theory]
    [InlineData("ftp://example.org/w/net.pth", "http:// or https://")]
    [InlineData("file:///etc/passwd", "http:// or https://")]
    [InlineData("/w/net.pth", "http:// or https://")]
    [InlineData("https:/example.org/w/net.pth", "http:// or https://")]
    [InlineData("https://example.org/w/", "ends in a file name")]
    [InlineData("https://example.org/w/%2e%2e", "ends in a file name")]
    [InlineData("https://example.org/w/a%2Fb.pth", "ends in a file name")]
    [InlineData("https://example.org/w/a%0Ab.pth", "ends in a file name")]
    [InlineData("https://example.org/w/my net.pth", "%-encoded")]
    [InlineData("https://example.org/w/n\\u00e9t.pth", "%-encoded")]
    [InlineData("https://user:secret@example.org/w/net.pth", "without a user name or password")]
    public void CheckpointUrlMustBeAnHttpUrlOfAFile(string url, string expected)
    {
        string json = Valid.Replace("\"num_classes\": 10,", $"\"num_classes\": 10,\n  \"checkpoint\": {{ \"url\": \"{url}\", \"sha256\": \"bc967bf1\" }},");
        var d = Single(json, "RN0009");
        Assert.Equal($"\"{url}\"", Where(d, json).Text);
        Assert.Contains("checkpoint.url", d.GetMessage());
        Assert.Contains(expected, d.GetMessage());
    }

    [Fact]
    public void NameThatIsAnotherSpecsClassNameIsReportedAtTheName()
    {
        string a = Valid.Replace("\"name\": \"net\",", "\"name\": \"alpha\",\n  \"class_name\": \"Shared\",");
        string b = Valid.Replace("\"name\": \"net\"", "\"name\": \"Shared\"");
        var result = GeneratorRunner.Run(("/specs/a.json", a), ("/specs/b.json", b));
        var d = Assert.Single(result.Diagnostics);
        Assert.Equal("RN0010", d.Id);
        Assert.Equal("/specs/b.json", d.Location.GetLineSpan().Path);
        Assert.Equal((1, 10, "\"Shared\""), Where(d, b));
        Assert.Contains("The name \"Shared\" is already used by \"a.json\" as its class name", d.GetMessage());
        var registry = Assert.Single(result.GeneratedTrees, t => t.FilePath.EndsWith("Res2NetModels.g.cs", StringComparison.Ordinal)).ToString();
        Assert.DoesNotContain("new B()", registry);
    }

    /// <summary>With ILGPU referenced, network Alpha also declares AlphaGpu: a spec may not take that class name, in either order.</summary>
    [Theory]
    [InlineData("Alpha", "AlphaGpu", "The class name \"AlphaGpu\" is already used by \"a.json\" as its device class name (its class name + Gpu)")]
    [InlineData("AlphaGpu", "Alpha", "The device class name (its class name + Gpu) \"AlphaGpu\" is already used by \"a.json\" as its class name")]
    public void AClassNameThatIsAnotherNetworksDeviceClassIsReported(string first, string second, string message)
    {
        string a = Valid.Replace("\"name\": \"net\",", $"\"name\": \"alpha\",\n  \"class_name\": \"{first}\",");
        string b = Valid.Replace("\"name\": \"net\",", $"\"name\": \"beta\",\n  \"class_name\": \"{second}\",");
        var result = GeneratorRunner.Run(("/specs/a.json", a), ("/specs/b.json", b));
        var d = Assert.Single(result.Diagnostics);
        Assert.Equal("RN0010", d.Id);
        Assert.Equal("/specs/b.json", d.Location.GetLineSpan().Path);
        Assert.Equal((2, 16, $"\"{second}\""), Where(d, b));
        Assert.Contains(message, d.GetMessage());
    }

    [Fact]
    public void ClassNamesThatDifferOnlyInCaseAreReported()
    {
        string a = Valid.Replace("\"name\": \"net\",", "\"name\": \"alpha\",\n  \"class_name\": \"Alpha\",");
        string b = Valid.Replace("\"name\": \"net\",", "\"name\": \"beta\",\n  \"class_name\": \"ALPHA\",");
        var result = GeneratorRunner.Run(("/specs/a.json", a), ("/specs/b.json", b));
        var d = Assert.Single(result.Diagnostics);
        Assert.Equal("RN0010", d.Id);
        Assert.Equal((2, 16, "\"ALPHA\""), Where(d, b));
    }

    [Fact]
    public void FieldsAtTheirMaximaAreRefusedWithoutCrashingOrARegistryEntry()
    {
        const string Maxima = """
            {
              "name": "huge",
              "blocks": [64, 64, 64, 64],
              "base_width": 4096,
              "scales": 64,
              "stem": "deep",
              "avg_down": true,
              "stem_channels": 4096,
              "base_channels": 4096,
              "num_classes": 1000000,
              "input_size": [8192, 8192]
            }
            """;
        var (result, output) = GeneratorRunner.Compile(("/specs/huge.json", Maxima));
        Assert.Null(result.Results.Single().Exception);
        var d = Assert.Single(result.Diagnostics);
        Assert.Equal("RN0012", d.Id);
        Assert.Equal((10, 16, "[8192, 8192]"), Where(d, Maxima));
        Assert.Contains("a buffer can hold", d.GetMessage());
        // Nothing was emitted for it, so the registry that was compiles and does not name it.
        Assert.Empty(output.GetDiagnostics().Where(x => x.Severity == DiagnosticSeverity.Error));
        Assert.DoesNotContain("Huge", Assert.Single(result.GeneratedTrees).ToString());
    }

    [Fact]
    public void AnInputTooLargeNamesTheBufferThatOverflows()
    {
        string json = Valid.Replace("[224, 224]", "[8192, 8192]");
        var d = Single(json, "RN0012");
        Assert.Equal("[8192, 8192]", Where(d, json).Text);
        // At 8192² the stem's output alone is 64 × 4096 × 4096 = 2^30 floats; the arena, which holds it and the max-pool's
        // output while the pool runs, is the first buffer placed past what one array can hold (the passes place the
        // arena before the CPU lowering sizes each conv's gathered input, which would overflow next).
        Assert.Contains("the activation arena needs", d.GetMessage());
        Assert.Contains("more than the 2,147,483,575 a buffer can hold", d.GetMessage());
    }

    [Fact]
    public void AnInvalidNamespaceSettingIsReportedAndNothingIsEmitted()
    {
        var (result, output) = GeneratorRunner.Compile("Res2Net.Models;class X{}//", ("/specs/net.json", Valid));
        var d = Assert.Single(result.Diagnostics);
        Assert.Equal("RN0013", d.Id);
        Assert.Equal(Location.None, d.Location);
        Assert.Empty(result.GeneratedTrees);
        Assert.Empty(output.GetDiagnostics().Where(x => x.Severity == DiagnosticSeverity.Error));
    }

    [Fact]
    public void AValidNamespaceSettingIsUsed()
    {
        var (result, output) = GeneratorRunner.Compile("My.Networks", ("/specs/net.json", Valid));
        Assert.Empty(result.Diagnostics);
        Assert.NotNull(output.GetTypeByMetadataName("My.Networks.Net"));
        Assert.NotNull(output.GetTypeByMetadataName("My.Networks.Res2NetModels"));
    }
}
