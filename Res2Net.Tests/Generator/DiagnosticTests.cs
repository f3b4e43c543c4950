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
        Assert.Contains("a.json", d.GetMessage());
        Assert.Single(result.GeneratedTrees, t => t.FilePath.EndsWith("A.g.cs", StringComparison.Ordinal));
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
}
