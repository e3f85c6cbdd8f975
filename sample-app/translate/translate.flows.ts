import { Injectable } from '@nestjs/common';
import { Flow, type FlowContext } from 'nestjs-gotick';

/** GoTick's translate example: two independent steps run side by side with async + wait. */
@Injectable()
export class TranslateFlows {
  @Flow('demo/parallel-translate')
  async translate(ctx: FlowContext<{ text: string }>) {
    const toEn = ctx.async('to_en', async () => {
      await new Promise((resolve) => setTimeout(resolve, 200));
      return `en(${ctx.input.text})`;
    });
    const tokenLen = ctx.async('token_len', async () => {
      await new Promise((resolve) => setTimeout(resolve, 200));
      return ctx.input.text.length;
    });
    const [en, length] = await ctx.wait([toEn, tokenLen] as const, { concurrency: 2 });
    return { en, length };
  }
}
