using System.Text;
using Res2Net.Runtime.Networks;
using Xunit;

namespace Res2Net.Tests.Generator;

/// <summary>The specs <c>res2net inspect --spec</c> writes: the generator takes them as they are, and they are recognised when they are to be replaced.</summary>
public class NetworkSpecFileTests
{
    private static readonly Res2NetArchitecture Deep = new([1, 2, 1, 1], 6, 3, Res2NetArchitecture.DeepStem, true, 16, 8, 7);

    [Theory]
    [InlineData("plain-name")]
    [InlineData("quotes \" and \\ backslash")]
    [InlineData("résumé-网络-😀")]
    public void TheGeneratorCompilesWhatIsWrittenWithoutAnyDiagnostic(string name)
    {
        string text = NetworkSpecFile.Text(Deep, name, 64, 48);

        var result = GeneratorRunner.Run(("networks/written.json", text));

        Assert.Empty(result.Diagnostics);
        string source = string.Concat(result.Results.Single().GeneratedSources.Select(s => s.SourceText.ToString()));
        Assert.Contains("Blocks: new[] { 1, 2, 1, 1 }", source);
        Assert.Contains("InputHeight = 64", source);
    }

    [Fact]
    public void ADepthOf50To152IsWrittenAsTheDepth()
    {
        var r101 = new Res2NetArchitecture([3, 4, 23, 3], 26, 4, Res2NetArchitecture.PlainStem, false, 64, 64, 1000);
        Assert.Equal("""
            {
              "name": "res2net101-w26-s4",
              "depth": 101,
              "base_width": 26,
              "scales": 4,
              "stem": "plain",
              "avg_down": false,
              "stem_channels": 64,
              "base_channels": 64,
              "num_classes": 1000,
              "input_size": [224, 224]
            }

            """, NetworkSpecFile.Text(r101, "res2net101-w26-s4", 224, 224));
    }

    [Theory]
    [InlineData("")]
    [InlineData("  ")]
    [InlineData("line\nbreak")]
    [InlineData("escape\u001b[2J")]
    [InlineData("bidi\u202eoverride")]
    public void NamesTheGeneratorWouldRefuseAreRefused(string name)
    {
        Assert.NotNull(NetworkSpecFile.NameProblem(name));
        Assert.Throws<ArgumentException>(() => NetworkSpecFile.Text(Deep, name, 224, 224));
    }

    [Fact]
    public void ANameOfMoreThan256CharactersIsRefused()
    {
        Assert.Null(NetworkSpecFile.NameProblem(new string('n', 256)));
        Assert.Contains("at most 256", NetworkSpecFile.NameProblem(new string('n', 257)));
    }

    public static TheoryData<string> ShippedSpecs => new(
        Directory.GetFiles(GeneratorRunner.RepoFile("networks"), "*.json").Where(f => !f.EndsWith(".schema.json", StringComparison.Ordinal))
            .Concat(Directory.GetFiles(GeneratorRunner.RepoFile("Res2Net.Tests", "Networks"), "*.json")));

    [Theory]
    [MemberData(nameof(ShippedSpecs))]
    public void EveryShippedSpecIsRecognisedAsOne(string path)
    {
        byte[] bytes = File.ReadAllBytes(path);
        Assert.True(NetworkSpecFile.LooksLikeSpec(bytes, bytes.Length));
    }

    [Theory]
    [InlineData("")]
    [InlineData("[\"my notes\"]")]
    [InlineData("{ \"model\": \"x\", \"checkpoint\": \"y\" }")]
    [InlineData("{ \"name\": \"only a name\" }")]
    [InlineData("{ \"name\": \"x\", ")]
    [InlineData("not json")]
    public void OtherFilesAreNot(string text)
    {
        byte[] bytes = Encoding.UTF8.GetBytes(text);
        Assert.False(NetworkSpecFile.LooksLikeSpec(bytes, bytes.Length));
    }

    [Fact]
    public void ASpecWhoseHeadEndsInsideALongValueIsJudgedByWhatCameBefore()
    {
        // Only the first 4 KiB are read: class names after name and base_width do not matter, a cut before them does.
        byte[] spec = Encoding.UTF8.GetBytes("{ \"name\": \"n\", \"base_width\": 4, \"class_names\": [" + string.Join(", ", Enumerable.Repeat("\"c\"", 5000)) + "] }");
        Assert.True(NetworkSpecFile.LooksLikeSpec(spec[..4096], spec.Length));
        byte[] late = Encoding.UTF8.GetBytes("{ \"class_names\": [" + string.Join(", ", Enumerable.Repeat("\"c\"", 5000)) + "], \"name\": \"n\", \"base_width\": 4 }");
        Assert.False(NetworkSpecFile.LooksLikeSpec(late[..4096], late.Length));
    }
}
