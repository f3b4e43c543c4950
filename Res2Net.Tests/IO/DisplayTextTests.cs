using Res2Net.Runtime.IO;
using Xunit;

namespace Res2Net.Tests.IO;

/// <summary>
/// Escaping text from files for display. The expected strings are what Python's <c>repr</c> shows for the same
/// characters (without the quotes); ordinary non-ASCII text is kept as it is.
/// </summary>
public class DisplayTextTests
{
    [Theory]
    [InlineData("a\u001b[31mb", "a\\x1b[31mb")]
    [InlineData("\t\n\r", "\\t\\n\\r")]
    [InlineData("\u007f\u009b", "\\x7f\\x9b")]
    [InlineData("\u202e\u2066\u200b\u00ad", "\\u202e\\u2066\\u200b\\xad")]
    [InlineData("\u2028\u2029", "\\u2028\\u2029")]
    [InlineData("\U000e0041", "\\U000e0041")]
    [InlineData("h\u00e9llo \u65e5\u672c \U0001F600", "h\u00e9llo \u65e5\u672c \U0001F600")]
    [InlineData("backbone.layer1.0.convs.0.weight", "backbone.layer1.0.convs.0.weight")]
    public void EscapesWhatATerminalWouldActOnAsPythonsReprDoes(string text, string shown)
    {
        Assert.Equal(shown, DisplayText.Escape(text));
        Assert.Equal(shown, DisplayText.Escape(shown)); // escaping again changes nothing
    }

    /// <summary>A surrogate without its pair (not in the theory: xunit's serialization of test data would replace it).</summary>
    [Fact]
    public void LoneSurrogateIsEscaped()
    {
        Assert.Equal("\\ud800x\\udc00", DisplayText.Escape("\ud800x\udc00"));
    }

    [Fact]
    public void ShortenCutsLongNamesWithoutSplittingACharacter()
    {
        Assert.Equal(new string('k', DisplayText.NameLength) + "...", DisplayText.Shorten(new string('k', 500)));
        // A cut through an emoji's surrogate pair keeps the pair out whole rather than show half of it.
        string text = new string('k', 4) + "\U0001F600" + "tail";
        Assert.Equal("kkkk...", DisplayText.Escape(text, 5));
        Assert.Equal("kkkk\U0001F600...", DisplayText.Escape(text, 6));
        Assert.Equal("kk\\x1b...", DisplayText.Escape("kk\u001bkk", 3));
    }
}
