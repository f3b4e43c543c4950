using Spectre.Console;

namespace Res2Net.Cli;

/// <summary>Spectre.Console bound to a given writer, so output goes where the caller (or a test) says.</summary>
internal static class Terminal
{
    /// <summary>Width for tables written to a file or a pipe, where no terminal says how wide to be.</summary>
    private const int RedirectedWidth = 160;

    public static IAnsiConsole For(TextWriter writer)
    {
        bool terminal = writer == Console.Out && !Console.IsOutputRedirected;
        var console = AnsiConsole.Create(new AnsiConsoleSettings
        {
            Out = new AnsiConsoleOutput(writer),
            Ansi = terminal ? AnsiSupport.Detect : AnsiSupport.No,
            ColorSystem = terminal ? ColorSystemSupport.Detect : ColorSystemSupport.NoColors,
            Interactive = terminal ? InteractionSupport.Detect : InteractionSupport.No,
        });
        if (!terminal) console.Profile.Width = RedirectedWidth;
        return console;
    }
}
